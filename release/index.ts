/** Release artifacts: the operator and runner container images and the install manifest. */
export * from './image-plan';
export * from './build-info';
export * from './layout-index';
export * from './image-refs';
export * from './install-manifest';
export * from './image-build';
export * from './release';
export * from './npm-package';
export * from './npm-package-vendor';
