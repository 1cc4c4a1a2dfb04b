import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

export interface StreamStatus {
  name: string;
  subjects: string[];
  messages: number;
  bytes: number;
  firstSeq: number;
  lastSeq: number;
  /** messages per subject; for the DLQ stream, dead letters per `dlq.<consumer>` */
  perSubject: Record<string, number>;
  consumers: ConsumerStatus[];
}

export interface ConsumerStatus {
  name: string;
  filter: string | null;
  /** not yet delivered */
  pending: number;
  /** delivered, awaiting ack */
  ackPending: number;
  /** unacked messages delivered more than once */
  redelivered: number;
  /** pull requests waiting for messages: > 0 means a consumer process is attached */
  waiting: number;
  lastDeliveredSeq: number;
  ackFloorSeq: number;
}

/**
 * Reads the state of the event streams (`<ns>_EVENTS`, `<ns>_DLQ`) and their consumers.
 * Read-only: creates nothing, so it is safe against production.
 */
export async function readBusStatus(url: string, namespace = ''): Promise<StreamStatus[]> {
  const nc = await connect({
    servers: url.split(','),
    name: 'fitness-events-status',
    maxReconnectAttempts: 0,
  });
  try {
    const jsm = await jetstreamManager(nc);
    const prefix = namespace ? `${namespace}_` : '';
    const result: StreamStatus[] = [];
    for (const name of [`${prefix}EVENTS`, `${prefix}DLQ`]) {
      const info = await jsm.streams.info(name, { subjects_filter: '>' }).catch(() => null);
      if (!info) continue;
      const consumers: ConsumerStatus[] = [];
      for await (const c of jsm.consumers.list(name)) {
        consumers.push({
          name: c.name,
          filter: c.config.filter_subject ?? null,
          pending: c.num_pending,
          ackPending: c.num_ack_pending,
          redelivered: c.num_redelivered,
          waiting: c.num_waiting,
          lastDeliveredSeq: c.delivered.stream_seq,
          ackFloorSeq: c.ack_floor.stream_seq,
        });
      }
      result.push({
        name,
        subjects: info.config.subjects ?? [],
        messages: info.state.messages,
        bytes: info.state.bytes,
        firstSeq: info.state.first_seq,
        lastSeq: info.state.last_seq,
        perSubject: (info.state.subjects as Record<string, number> | undefined) ?? {},
        consumers,
      });
    }
    return result;
  } finally {
    await nc.close();
  }
}

/** Human-readable table of `readBusStatus`. */
export function formatBusStatus(streams: StreamStatus[]): string {
  if (streams.length === 0) return 'no event streams (has any service with NATS_URL started yet?)\n';
  const lines: string[] = [];
  for (const s of streams) {
    lines.push(
      `stream ${s.name}  subjects=${s.subjects.join(',')}  messages=${s.messages}  bytes=${s.bytes}  seq=${s.firstSeq}..${s.lastSeq}`,
    );
    for (const [subject, n] of Object.entries(s.perSubject).sort())
      lines.push(`  ${subject.padEnd(40)} ${n}`);
    for (const c of s.consumers) {
      lines.push(
        `  consumer ${c.name.padEnd(24)} pending=${c.pending} ackPending=${c.ackPending} redelivered=${c.redelivered} waiting=${c.waiting} delivered=${c.lastDeliveredSeq} ackFloor=${c.ackFloorSeq}${c.filter ? ` filter=${c.filter}` : ''}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
