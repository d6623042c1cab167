/**
 * Values per audit event (host and id), found straight from a record's header positions without
 * cutting strings out of the line.
 */
import { textAt } from './field-bytes.js';
import type { HeaderScan } from './record-header.js';

/** True when `bytes` holds `name` at `at` (a script loop: cheaper than a native call for a few bytes). */
export function sameBytes(bytes: Buffer, at: number, name: Buffer | string): boolean {
  if (typeof name === 'string') {
    for (let i = 0; i < name.length; i++) if (bytes[at + i] !== name.charCodeAt(i)) return false;
    return true;
  }
  for (let i = 0; i < name.length; i++) if (bytes[at + i] !== name[i]) return false;
  return true;
}

/** Which event a record belongs to: its host (`node=`, empty when absent) and id. */
export interface EventName {
  node: string;
  id: string;
  /** The id's serial as a number, or -1 when it is not a plain decimal of at most 15 digits. */
  serial: number;
  /** The id's time as the header scan read it, and whether the id has auditd's own shape (see HeaderScan.canonical). */
  timeMs: number;
  canonical: boolean;
}

/** One entry of an EventTable. */
export interface Slot<V> extends EventName {
  /** The map key it is stored under. */
  key: number | string;
  /** Insertion order across both maps. */
  seq: number;
  value: V;
}

/**
 * Values per event, found straight from a line's header positions. Events are keyed by their
 * serial number: a number key needs no string to be built or hashed per line, which is most of
 * the cost of a lookup. The stored node and id are compared with the line in place; an event
 * whose serial is already taken by another host's event (or that has no numeric serial) is kept
 * under its full `node\u0001id` name instead. Iteration is in insertion order, as with a Map.
 */
export class EventTable<V> {
  private readonly bySerial = new Map<number, Slot<V>>();
  private readonly byName = new Map<string, Slot<V>>();
  private seq = 0;

  get size(): number {
    return this.bySerial.size + this.byName.size;
  }

  /**
   * The entry of the event the header at `h` (of a line in `bytes`) names. An ASCII line's node
   * and id are compared in place; a line with other bytes (`utf8`) has them decoded first.
   */
  findAt(bytes: Buffer, h: HeaderScan, utf8: boolean): Slot<V> | undefined {
    if (utf8) return this.get(eventNameAt(bytes, h, true));
    const serial = h.serial;
    if (serial >= 0) {
      const slot = this.bySerial.get(serial);
      if (slot !== undefined && namesEventAt(slot, bytes, h)) return slot;
    }
    return this.byName.size === 0 ? undefined : this.byName.get(nameKey(eventNameAt(bytes, h, false)));
  }

  /** The entry of a named event. */
  get(name: EventName): Slot<V> | undefined {
    if (name.serial >= 0) {
      const slot = this.bySerial.get(name.serial);
      if (slot !== undefined && slot.node === name.node && slot.id === name.id) return slot;
    }
    return this.byName.size === 0 ? undefined : this.byName.get(nameKey(name));
  }

  /** Adds an event not in the table. */
  add(name: EventName, value: V): Slot<V> {
    const slot: Slot<V> = { node: name.node, id: name.id, serial: name.serial, timeMs: name.timeMs, canonical: name.canonical, key: name.serial, seq: this.seq++, value };
    if (name.serial >= 0 && !this.bySerial.has(name.serial)) {
      this.bySerial.set(name.serial, slot);
    } else {
      slot.key = nameKey(name);
      this.byName.set(slot.key, slot);
    }
    return slot;
  }

  /** Sets the value of a named event, adding it when absent (keeping its place when present). */
  set(name: EventName, value: V): void {
    const slot = this.get(name);
    if (slot) slot.value = value;
    else this.add(name, value);
  }

  delete(slot: Slot<V>): void {
    if (typeof slot.key === 'number') {
      if (this.bySerial.get(slot.key) === slot) this.bySerial.delete(slot.key);
    } else if (this.byName.get(slot.key) === slot) {
      this.byName.delete(slot.key);
    }
  }

  /** The entry added first among those still held. */
  oldest(): Slot<V> | undefined {
    const a = this.bySerial.values().next();
    const b = this.byName.values().next();
    if (a.done) return b.done ? undefined : b.value;
    return b.done || a.value.seq < b.value.seq ? a.value : b.value;
  }

  /** Every entry, oldest first. */
  *entries(): Generator<Slot<V>> {
    const a = this.bySerial.values();
    const b = this.byName.values();
    let x = a.next();
    let y = b.next();
    while (!x.done || !y.done) {
      if (y.done || (!x.done && x.value.seq < y.value.seq)) {
        yield x.value as Slot<V>;
        x = a.next();
      } else {
        yield y.value;
        y = b.next();
      }
    }
  }

  clear(): void {
    this.bySerial.clear();
    this.byName.clear();
  }
}

/** The event a record header at `h` names (its serial as the header scan read it). */
export function eventNameAt(bytes: Buffer, h: HeaderScan, utf8: boolean): EventName {
  return {
    node: h.nodeStart < 0 ? '' : textAt(bytes, h.nodeStart, h.nodeEnd, utf8),
    id: bytes.toString(utf8 ? 'utf8' : 'latin1', h.idStart, h.idEnd),
    serial: h.serial,
    timeMs: h.timeMs,
    canonical: h.canonical,
  };
}

/**
 * True when the header at `h` of an ASCII line in `bytes` has the node and id of `name`, compared
 * in place. Two ids of auditd's own shape with the same length, serial and time are the same text
 * (ten digits of seconds, three of milliseconds, the serial's digits), so those are compared as
 * numbers; any other id is compared byte for byte.
 */
function namesEventAt(name: EventName, bytes: Buffer, h: HeaderScan): boolean {
  const nodeLength = h.nodeStart < 0 ? 0 : h.nodeEnd - h.nodeStart;
  if (name.id.length !== h.idEnd - h.idStart || name.node.length !== nodeLength) return false;
  const sameId = name.canonical && h.canonical ? name.serial === h.serial && name.timeMs === h.timeMs : sameBytes(bytes, h.idStart, name.id);
  return sameId && (nodeLength === 0 || sameBytes(bytes, h.nodeStart, name.node));
}

/** Events of lines without `node=` (a local file) are named by the bare id, as a lone host's are. */
function nameKey(name: EventName): string {
  return name.node ? `${name.node}\u0001${name.id}` : name.id;
}
