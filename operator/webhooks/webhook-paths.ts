/** Webhook names and paths, as upstream registers them (§2). */
export const WEBHOOKS = {
  mutateVirtualMachine: {
    name: 'mvirtualmachine.kb.io',
    path: '/mutate-vm-neon-tech-v1-virtualmachine',
    resource: 'virtualmachines',
  },
  mutateMigration: {
    name: 'mvirtualmachinemigration.kb.io',
    path: '/mutate-vm-neon-tech-v1-virtualmachinemigration',
    resource: 'virtualmachinemigrations',
  },
  validateVirtualMachine: {
    name: 'vvirtualmachine.kb.io',
    path: '/validate-vm-neon-tech-v1-virtualmachine',
    resource: 'virtualmachines',
  },
  validateMigration: {
    name: 'vvirtualmachinemigration.kb.io',
    path: '/validate-vm-neon-tech-v1-virtualmachinemigration',
    resource: 'virtualmachinemigrations',
  },
} as const;

export const MUTATING_CONFIGURATION_NAME = 'neonvm-mutating-webhook-configuration';
export const VALIDATING_CONFIGURATION_NAME = 'neonvm-validating-webhook-configuration';
