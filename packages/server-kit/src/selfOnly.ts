import { defaultFieldResolver, type GraphQLSchema, isObjectType, Kind } from 'graphql';
import { forbidden } from './errors.js';

/** The federation spec every subgraph links to share `@selfOnly` through `@composeDirective`. */
export const SELF_ONLY_SPEC = 'https://fitness.example/self-only/v0.1';
export const SELF_ONLY_DIRECTIVE = 'selfOnly';

/**
 * Who owns a record, beside the signed-in viewer: a request that has just proved a
 * password (signUp, signIn) holds no token yet but owns the account it signed into.
 */
export type OwnerCheck = (ownerId: string, context: unknown) => boolean;

function viewerId(context: unknown): string | null {
  const viewer = (context as { viewer?: { userId?: unknown } } | undefined)?.viewer;
  return typeof viewer?.userId === 'string' ? viewer.userId : null;
}

/**
 * Enforces `@selfOnly` on an executable subgraph schema, in place: such a field
 * resolves only for its owner and is FORBIDDEN (null at its path) for anyone else,
 * anonymous callers included. The owner is the parent record's `id` on User and the
 * property the directive's `owner` argument names elsewhere (e.g. "userId"); a
 * field of another type without it stops the build, so no field is guarded by guess.
 */
export function enforceSelfOnly(schema: GraphQLSchema, isOwner?: OwnerCheck): GraphQLSchema {
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.values(type.getFields())) {
      const directive = field.astNode?.directives?.find((d) => d.name.value === SELF_ONLY_DIRECTIVE);
      if (!directive) continue;
      const arg = directive.arguments?.find((a) => a.name.value === 'owner');
      const ownerKey = arg?.value.kind === Kind.STRING ? arg.value.value : type.name === 'User' ? 'id' : null;
      if (!ownerKey) {
        throw new Error(
          `@selfOnly on ${type.name}.${field.name} needs owner: the parent's user id property.`,
        );
      }
      const resolve = field.resolve ?? defaultFieldResolver;
      field.resolve = (parent, args, context, info) => {
        const owner = (parent as Record<string, unknown> | null)?.[ownerKey];
        const self =
          typeof owner === 'string' && (viewerId(context) === owner || isOwner?.(owner, context) === true);
        if (!self) throw forbidden();
        return resolve(parent, args, context, info);
      };
    }
  }
  return schema;
}
