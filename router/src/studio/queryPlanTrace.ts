import type { FetchNode, PlanNode, QueryPlan } from '@apollo/query-planner';
import { Trace } from '@apollo/usage-reporting-protobuf';
import type { Logger } from '@fitness/server-kit';
import type { FetchSender } from '../executor/planExecutor.js';

/** The header that asks a subgraph for its inline trace (`extensions.ftv1`). */
export const INCLUDE_TRACE_HEADER = 'apollo-federation-include-trace';

/** What Apollo Server's usage reporting reads and writes on a request's `metrics`. */
export interface TraceMetrics {
  captureTraces?: boolean;
  startHrTime?: [number, number];
  queryPlanTrace?: Trace.QueryPlanNode;
}

const nanosSince = (start: [number, number]) => {
  const [seconds, nanos] = process.hrtime(start);
  return seconds * 1e9 + nanos;
};

/** A protobuf Timestamp, as Studio's traces carry them. */
const timestamp = (date: Date) => {
  const millis = date.getTime();
  return { seconds: Math.floor(millis / 1000), nanos: (millis % 1000) * 1e6 };
};

/**
 * The query plan trace of one operation run by the router's executor, as
 * @apollo/gateway's executor builds it for Apollo Studio: the plan's shape
 * (sequence, parallel, flatten with its path, condition, fetch) and per fetch the
 * subgraph's own trace (its `extensions.ftv1`, asked for with
 * `apollo-federation-include-trace: ftv1`) and when it was sent and received.
 * Used only when usage reporting captures this operation's trace.
 */
export class QueryPlanTraces {
  private readonly fetches = new Map<FetchNode, Trace.QueryPlanNode.FetchNode>();

  constructor(
    private readonly metrics: TraceMetrics,
    private readonly logger: Logger,
    /** The traced request's, for its log line. */
    private readonly requestId?: string,
  ) {}

  /** A sender that records each fetch of the plan; give it the plan's own fetch nodes. */
  recording(send: FetchSender): FetchSender {
    return async (fetch, variables) => {
      const node = new Trace.QueryPlanNode.FetchNode({ serviceName: fetch.serviceName });
      if (this.metrics.startHrTime) node.sentTimeOffset = nanosSince(this.metrics.startHrTime);
      node.sentTime = timestamp(new Date());
      this.fetches.set(fetch, node);
      const response = await send(fetch, variables);
      node.receivedTime = timestamp(new Date());
      const ftv1 = response.extensions?.ftv1;
      if (typeof ftv1 === 'string') {
        try {
          node.trace = Trace.decode(Buffer.from(ftv1, 'base64'));
        } catch (err) {
          this.logger.error(
            { err, subgraph: fetch.serviceName, requestId: this.requestId },
            'a subgraph sent an unreadable inline trace',
          );
          node.traceParsingFailed = true;
        }
      }
      return response;
    };
  }

  /** Hands the plan's trace to usage reporting (requestContext.metrics.queryPlanTrace). */
  finish(plan: QueryPlan): void {
    if (plan.node && plan.node.kind !== 'Subscription') this.metrics.queryPlanTrace = this.nodeOf(plan.node);
  }

  private nodeOf(node: PlanNode): Trace.QueryPlanNode {
    switch (node.kind) {
      case 'Sequence':
        return new Trace.QueryPlanNode({
          sequence: new Trace.QueryPlanNode.SequenceNode({ nodes: node.nodes.map((n) => this.nodeOf(n)) }),
        });
      case 'Parallel':
        return new Trace.QueryPlanNode({
          parallel: new Trace.QueryPlanNode.ParallelNode({ nodes: node.nodes.map((n) => this.nodeOf(n)) }),
        });
      case 'Flatten':
        return new Trace.QueryPlanNode({
          flatten: new Trace.QueryPlanNode.FlattenNode({
            responsePath: node.path.map(
              (id) =>
                new Trace.QueryPlanNode.ResponsePathElement(
                  typeof id === 'string' ? { fieldName: id } : { index: id },
                ),
            ),
            node: this.nodeOf(node.node),
          }),
        });
      case 'Fetch':
        return new Trace.QueryPlanNode({
          fetch:
            this.fetches.get(node) ?? new Trace.QueryPlanNode.FetchNode({ serviceName: node.serviceName }),
        });
      case 'Condition': {
        // Only the branch that ran has fetches; the gateway reports the one it picked.
        const ran = [node.ifClause, node.elseClause].find((branch) => branch && this.ran(branch));
        return new Trace.QueryPlanNode({
          condition: new Trace.QueryPlanNode.ConditionNode({
            condition: node.condition,
            ...(ran === node.ifClause && ran ? { ifClause: this.nodeOf(ran) } : {}),
            ...(ran === node.elseClause && ran ? { elseClause: this.nodeOf(ran) } : {}),
          }),
        });
      }
      default:
        // Defer and subscriptions never reach the router's executor.
        return new Trace.QueryPlanNode();
    }
  }

  private ran(node: PlanNode): boolean {
    switch (node.kind) {
      case 'Fetch':
        return this.fetches.has(node);
      case 'Sequence':
      case 'Parallel':
        return node.nodes.some((n) => this.ran(n));
      case 'Flatten':
        return this.ran(node.node);
      case 'Condition':
        return [node.ifClause, node.elseClause].some((branch) => branch !== undefined && this.ran(branch));
      default:
        return false;
    }
  }
}
