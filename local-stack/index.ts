/**
 * NeonVM on one machine: the local cluster with our CRDs, the operator, the runner as the runner pod's
 * command and the Debian guest image (NeonVmStack), and the seed README's flows run against it
 * (SeedFlow). `npm start`, the end-to-end tests and the benchmarks use it.
 */
export * from './neonvm-stack';
export * from './runner-command';
export * from './seed-flow';
