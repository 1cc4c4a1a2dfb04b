export * from './__generated__/index.js';
