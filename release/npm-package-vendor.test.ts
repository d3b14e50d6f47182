import { rewriteSpecifier, vendorSpecifier } from './npm-package-vendor';

describe('vendoring TypeBox into the package', () => {
  it('rewrites exactly the package specifier in require, import and import() forms', () => {
    const js = 'const typebox_1 = require("@sinclair/typebox");\nrequire("@sinclair/typeboxer");';
    expect(rewriteSpecifier(js, '@sinclair/typebox', '../vendor/typebox')).toBe(
      'const typebox_1 = require("../vendor/typebox");\nrequire("@sinclair/typeboxer");',
    );
    const dts =
      'import { type Static } from \'@sinclair/typebox\';\nexport declare const A: import("@sinclair/typebox").TString;';
    expect(rewriteSpecifier(dts, '@sinclair/typebox', './vendor/typebox')).toBe(
      'import { type Static } from \'./vendor/typebox\';\nexport declare const A: import("./vendor/typebox").TString;',
    );
  });

  it('refuses a subpath import, which the vendored copy cannot serve', () => {
    expect(() =>
      rewriteSpecifier('require("@sinclair/typebox/value")', '@sinclair/typebox', 'x', 'a.js'),
    ).toThrow('a.js: imports a subpath of @sinclair/typebox');
  });

  it('points each file at lib/vendor/typebox relative to itself', () => {
    expect(vendorSpecifier('/p/lib', '/p/lib/crds/schema/common.js')).toBe('../../vendor/typebox');
    expect(vendorSpecifier('/p/lib', '/p/lib/index.d.ts')).toBe('./vendor/typebox');
  });
});
