import { GraphQLError, GraphQLScalarType, Kind } from 'graphql';

function invalid(): GraphQLError {
  return new GraphQLError('DateTime must be an ISO-8601 date-time string, e.g. 2026-11-26T06:00:00.000Z.', {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

function checkedString(value: unknown): string {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw invalid();
  return value;
}

/**
 * The contract's `DateTime`, shared by every subgraph. Output: a Date or a date
 * string, always written as UTC ISO-8601 with milliseconds (also from
 * `executeOperation`, where no JSON step would turn a Date into a string). Input:
 * the client's string once checked to be a date, so range rules and messages that
 * name the field stay in each subgraph's validation.
 */
export const DateTimeScalar = new GraphQLScalarType<string, string>({
  name: 'DateTime',
  description: 'ISO-8601 date-time with an offset, e.g. 2026-11-26T06:00:00.000Z',
  serialize(value) {
    const date = value instanceof Date ? value : new Date(checkedString(value));
    if (Number.isNaN(date.getTime())) throw invalid();
    return date.toISOString();
  },
  parseValue: checkedString,
  parseLiteral: (ast) => checkedString(ast.kind === Kind.STRING ? ast.value : undefined),
});
