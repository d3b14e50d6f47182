/**
 * Running Pulumi programs on this machine: the Automation API with an inline program, the locally
 * built CLI and Kubernetes provider (scripts/build-pulumi.sh). Repository machinery for
 * `neonvm pulumi` and the tests, not part of the published `neonvm/provider` entry point: app repos
 * run their programs with the standard `pulumi` CLI.
 */
export * from './automation';
export * from './pulumi-toolchain';
