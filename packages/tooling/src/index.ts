export { type Composed, CompositionError, composeSupergraph } from './composeSupergraph.js';
export { readSupergraphConfig, repoRoot, type SubgraphEntry } from './supergraphConfig.js';
