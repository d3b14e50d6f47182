/**
 * Entry point for the standard Pulumi CLI (`pulumi up` in this directory, with the Node.js language
 * host). On machines without it, `neonvm pulumi up` runs the same program through the Automation API.
 */
import { neonvmExamplesProgram } from './program';

export = neonvmExamplesProgram({ install: true })();
