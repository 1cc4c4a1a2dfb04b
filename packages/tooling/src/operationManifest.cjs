// GraphQL Code Generator plugin: the operations of schema/operations as a persisted
// query manifest (Apollo's format: id = sha256 of the printed body). The router's
// safelist mode (OPERATION_SAFELIST) serves only what it lists. CommonJS, because
// codegen loads plugins with require().
const { createHash } = require('node:crypto');
const { print } = require('graphql');

module.exports = {
  plugin(_schema, documents) {
    const operations = [];
    for (const { document } of documents) {
      for (const definition of document?.definitions ?? []) {
        if (definition.kind !== 'OperationDefinition' || !definition.name) continue;
        const body = print({ kind: 'Document', definitions: [definition] });
        operations.push({
          id: createHash('sha256').update(body).digest('hex'),
          name: definition.name.value,
          type: definition.operation,
          body,
        });
      }
    }
    operations.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return `${JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations }, null, 2)}\n`;
  },
};
