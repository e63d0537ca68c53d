/**
 * The appliance's live stream for the examinee (GET /api/exam/events): the timeline (status,
 * deadline with extensions, the bathroom break, the appliance's time), messages from the
 * proctors, and pings that carry the appliance's time. Each contact corrects the clock's offset,
 * which is saved so that a reload without network keeps the right time.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApplianceClock } from '../shared/appliance-clock';
import { openEventStream, type StreamState } from '../shared/event-stream';
import { apiHeaders } from './api';
import { saveClockOffset } from './attempt';
import type { BathroomStatus } from '../../../domain/examinee-state.js';
import type { MonitorMessage } from '../../../domain/monitor.js';
import type { ProctoringConfig } from './snapshots';

/** What the timeline stream of GET /api/exam/events carries. */
interface Timeline {
  status: string;
  deadline: string;
  countdown: { serverNow: number };
  bathroom?: BathroomStatus;
  /** The submission that counts (null: none); absent from an older appliance. */
  submissionId?: string | null;
  /** The snapshots the device is to take (absent from an older appliance). */
  proctoring?: ProctoringConfig;
}

export interface ExamEvents {
  stream: StreamState;
  /** By how much the latest extension moved the deadline (ms; 0: none seen). */
  extendedBy: number;
  messages: MonitorMessage[];
  bathroom: BathroomStatus | undefined;
  /** What the appliance last said the device is to photograph; undefined until it said so. */
  proctoring: ProctoringConfig | undefined;
}

export function useExamEvents(options: {
  token: string;
  clock: ApplianceClock;
  enabled: boolean;
  deadline: number;
  onDeadline: (deadline: number) => void;
  /** The submission that counts, as each timeline says (null: none, e.g. a proctor removed it). */
  onSubmission?: (submissionId: string | null) => void;
  /** Any other event (e.g. the submission's state), by name. */
  onOther?: (event: string, data: unknown) => void;
}): ExamEvents {
  const { token, clock, enabled } = options;
  const [stream, setStream] = useState<StreamState>('connecting');
  const [extendedBy, setExtendedBy] = useState(0);
  const [messages, setMessages] = useState<MonitorMessage[]>([]);
  const [bathroom, setBathroom] = useState<BathroomStatus | undefined>(undefined);
  const [proctoring, setProctoring] = useState<ProctoringConfig | undefined>(undefined);
  // The latest values for the stream's callbacks, without reopening the stream when they change.
  const latest = useRef(options);
  latest.current = options;

  useEffect(() => {
    if (!enabled) return;
    const observe = (serverNow: number) => {
      const received = Date.now();
      clock.observe(received, serverNow, received);
      saveClockOffset(clock.offset);
    };
    return openEventStream({
      url: '/api/exam/events',
      headers: apiHeaders(token),
      onState: setStream,
      onEvent: (event, data) => {
        if (event === 'timeline') {
          const timeline = data as Timeline;
          observe(timeline.countdown.serverNow);
          if (timeline.bathroom !== undefined) setBathroom(timeline.bathroom);
          if (timeline.proctoring !== undefined) setProctoring(timeline.proctoring);
          if (timeline.submissionId !== undefined) latest.current.onSubmission?.(timeline.submissionId);
          const deadline = Date.parse(timeline.deadline);
          const known = latest.current.deadline;
          if (Number.isFinite(deadline) && deadline !== known) {
            if (deadline > known) setExtendedBy(deadline - known);
            latest.current.onDeadline(deadline);
          }
        } else if (event === 'message') {
          const message = data as MonitorMessage;
          if (typeof message.messageId === 'string') setMessages((list) => [...list, message]);
        } else if (event === 'ping') {
          const serverNow = (data as { serverNow?: number }).serverNow;
          if (typeof serverNow === 'number') observe(serverNow);
        } else {
          latest.current.onOther?.(event, data);
        }
      },
    });
  }, [token, clock, enabled]);

  return { stream, extendedBy, messages, bathroom, proctoring };
}
