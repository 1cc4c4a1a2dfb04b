export {
  type Composed,
  CompositionError,
  composeSupergraph,
  selfOnlyOwnershipProblems,
} from './composeSupergraph.js';
export {
  DEFAULT_PORTS,
  freePort,
  type ReplicaOptions,
  type RunningService,
  type ServiceName,
  type Stack,
  type StackOptions,
  SUBGRAPHS,
  type SubgraphName,
  startStack,
} from './stack.js';
export { readSupergraphConfig, repoRoot, type SubgraphEntry } from './supergraphConfig.js';
