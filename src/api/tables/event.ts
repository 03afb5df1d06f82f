// Event rows for both event APIs (core/v1 and events.k8s.io/v1), which Kubernetes prints with
// one printer: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE, then wide SUBOBJECT, SOURCE, FIRST
// SEEN, COUNT, NAME. Guarantees: the 1.32 fallbacks — first seen from eventTime when
// firstTimestamp is unset, last seen from firstTimestamp when lastTimestamp is unset, and from
// series.lastObservedTime (with series.count) for event series; a count of 0 prints as 1;
// OBJECT is `kind/name` in lower-case kind. Does not sort rows (the caller's order is kept).
import type { Event as CoreEvent } from 'kubernetes-types/core/v1.js';
import type { Event as EventsV1Event } from 'kubernetes-types/events/v1.js';
import { since } from './age.js';
import { NAME, col, wide } from './columns.js';
import type { Printer, TableColumnDefinition } from './types.js';
import type { KubeObject } from '../object.js';

/** The fields the printer reads, common to both APIs. */
interface EventView {
  name: string;
  type: string;
  reason: string;
  message: string;
  kind: string;
  objectName: string;
  fieldPath: string;
  component: string;
  host: string;
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  count: number;
  series?: { count: number; lastObservedTime?: string };
}

function fromCore(e: CoreEvent): EventView {
  return {
    name: e.metadata?.name ?? '', type: e.type ?? '', reason: e.reason ?? '', message: e.message ?? '',
    kind: e.involvedObject?.kind ?? '', objectName: e.involvedObject?.name ?? '', fieldPath: e.involvedObject?.fieldPath ?? '',
    component: e.source?.component || e.reportingComponent || '', host: e.source?.host || e.reportingInstance || '',
    firstTimestamp: e.firstTimestamp, lastTimestamp: e.lastTimestamp, eventTime: e.eventTime,
    count: e.count ?? 0,
    series: e.series ? { count: e.series.count ?? 0, lastObservedTime: e.series.lastObservedTime } : undefined,
  };
}

function fromEventsV1(e: EventsV1Event): EventView {
  return {
    name: e.metadata?.name ?? '', type: e.type ?? '', reason: e.reason ?? '', message: e.note ?? '',
    kind: e.regarding?.kind ?? '', objectName: e.regarding?.name ?? '', fieldPath: e.regarding?.fieldPath ?? '',
    component: e.deprecatedSource?.component || e.reportingController || '', host: e.deprecatedSource?.host || e.reportingInstance || '',
    firstTimestamp: e.deprecatedFirstTimestamp, lastTimestamp: e.deprecatedLastTimestamp, eventTime: e.eventTime,
    count: e.deprecatedCount ?? 0,
    series: e.series ? { count: e.series.count, lastObservedTime: e.series.lastObservedTime } : undefined,
  };
}

// Stored events passed validation; the readers below still treat every field as optional.
const columns: readonly TableColumnDefinition[] = [
  col('Last Seen', 'string', 'The time at which the most recent occurrence of this event was recorded.'),
  col('Type', 'string', 'Type of this event (Normal, Warning).'),
  col('Reason', 'string', 'A short, machine understandable string that gives the reason for this event.'),
  col('Object', 'string', 'The object that this event is about.'),
  wide('Subobject', 'string', 'The part of the object the event is about, e.g. a container.'),
  wide('Source', 'string', 'The component reporting this event.'),
  col('Message', 'string', 'A human-readable description of the status of this operation.'),
  wide('First Seen', 'string', 'The time at which the event was first recorded.'),
  wide('Count', 'string', 'The number of times this event has occurred.'),
  { ...NAME, priority: 1 },
];

function cells(e: EventView, now: number): (string | number)[] {
  const first = e.firstTimestamp ? since(e.firstTimestamp, now) : since(e.eventTime, now);
  let last = e.lastTimestamp ? since(e.lastTimestamp, now) : first;
  let count = e.count;
  if (e.series) {
    last = since(e.series.lastObservedTime, now);
    count = e.series.count;
  } else if (count === 0) {
    count = 1; // events.k8s.io singletons carry no count
  }
  const target = e.objectName ? `${e.kind.toLowerCase()}/${e.objectName}` : e.kind.toLowerCase();
  const source = e.host ? `${e.component}, ${e.host}` : e.component;
  return [last, e.type, e.reason, target, e.fieldPath, source, e.message.trim(), first, count, e.name];
}

export const coreEventPrinter: Printer = {
  columns,
  row: (obj: KubeObject, ctx) => ({ cells: cells(fromCore(obj as unknown as CoreEvent), ctx.now) }),
};

export const eventsV1EventPrinter: Printer = {
  columns,
  row: (obj: KubeObject, ctx) => ({ cells: cells(fromEventsV1(obj as unknown as EventsV1Event), ctx.now) }),
};
