/**
 * Confirms that the person answering in chat is the account's owner, out of band (a Duo push).
 * Every method throws SecondFactorUnavailableError when it cannot get a definite answer; callers
 * treat that as a failure, never as success.
 */
export interface SecondFactorPort {
  /** Starts a push to the user's phone. */
  startPush(request: PushRequest): Promise<PushStart>;
  /**
   * The push's current state. May wait (long-poll) up to `waitMs` for a change before answering
   * `waiting`.
   */
  pushStatus(transactionId: string, options: { waitMs: number }): Promise<PushStatus>;
  /**
   * The longest a startPush call may take to reach the service once it has begun (the timeouts
   * of the requests it makes): a push it started reached the phone within this much. After a
   * crash inside the call, a second push waits this long beyond the first one's timeout, so the
   * two are never live at once. Absent means 0.
   */
  readonly startPushWithinMs?: number;
}

export interface PushRequest {
  /** The second-factor account name (Duo username). */
  username: string;
  /** Shown on the phone: short key/value context such as host, command and rule. */
  details: Record<string, string>;
  /** Shown as the request's type/title on the phone. */
  title: string;
}

export type PushStart =
  | { kind: 'started'; transactionId: string }
  /**
   * No push was sent: the user has no push-capable device, is not enrolled, or is denied by
   * policy. `reason` is one of no_device, enroll, deny, or the service's own word.
   */
  | { kind: 'refused'; reason: string; message: string };

export interface PushStatus {
  /** allow and deny are final; waiting means ask again. */
  result: 'allow' | 'deny' | 'waiting';
  /** The service's own status word (pushed, allow, deny, fraud, timeout, ...): an open list. */
  status: string;
  message: string;
  /** The service gave no answer within the wait (a long poll that outlived it): not its word. */
  noAnswer?: boolean;
}
