/**
 * The exam monitor: the exam's live state (useMonitor) under six tabs, as TomaSafe's Exam
 * Monitor lays them out (Exam info, Participants, Messages, Exam preview) plus Resume codes and
 * Sync status. The selected tab and filter are in the address (route.ts). What needs a proctor is
 * counted on the Participants tab and in the title, and each new arrival is a toast (and, if this
 * proctor turned it on, a sound) that opens the dialog to act on it.
 */
import { useEffect, useState } from 'preact/hooks';
import type { AttentionItem, AttentionKind } from '../../../domain/attention.js';
import { t } from '../i18n';
import { useFocusOnMount } from '../shared/focus';
import type { Proctor } from './api';
import { AttentionToasts } from './attention-toasts';
import { ExamInfoTab } from './exam-info';
import { useMonitor, type LiveState } from './live';
import { MessagesTab } from './messages';
import { ParticipantsTab } from './participants';
import { PreviewTab } from './preview';
import { ResumeCodesTab } from './resume-codes';
import { TAB_KEYS, type StatusFilter, type TabKey } from './route';
import { SyncStatusTab } from './sync-status';
import { Tabs } from './tabs';
import { useAttention, useAttentionTitle } from './use-attention';
import type { Acting } from './row-actions';
import { playChime, useAttentionSound, useAttentionToasts } from './use-attention-toasts';

/** The section of the examinee's action dialog (row-actions.tsx) where each kind is acted on. */
const ACTION_SECTIONS: Record<Exclude<AttentionKind, 'question'>, string> = {
  bathroom: 'act-bathroom',
  relogin: 'act-relogin',
  'verification-photo': 'act-verification',
  'changed-after-time-up': 'act-time-up',
  integrity: 'act-integrity',
  snapshots: 'act-proctoring',
};

/** The tabs' icons on a phone's bottom bar (beside a short label: never an icon alone). */
const TAB_ICONS: Record<TabKey, string> = {
  info: 'ℹ',
  participants: '☷',
  messages: '✉',
  preview: '▤',
  resume: '№',
  sync: '⇅',
};

export function SoundSetting(props: { on: boolean; onChange: (on: boolean) => void }) {
  return (
    <label class="check sound-setting">
      <input
        type="checkbox"
        checked={props.on}
        onChange={(e) => props.onChange(e.currentTarget.checked)}
        data-testid="attention-sound"
      />
      {t.proctor.attention.sound}
    </label>
  );
}

export function LiveIndicator(props: { state: LiveState }) {
  return (
    <p class={`live-indicator live-${props.state}`} role="status" data-testid="live-indicator" data-state={props.state}>
      <span class="visually-hidden">{t.proctor.live.label}: </span>
      <span class="dot" aria-hidden="true" />
      {t.proctor.live[props.state]}
    </p>
  );
}

export function Monitor(props: {
  proctor: Proctor;
  examId: string;
  tab: TabKey;
  onTab: (tab: TabKey) => void;
  status: StatusFilter;
  onStatus: (status: StatusFilter) => void;
  /** Whose action dialog is open: in the address (route.ts), so Back closes it and a reload reopens it. */
  examinee: string | undefined;
  onExaminee: (studentId: string | undefined) => void;
  onBack: () => void;
  onSignedOut: () => void;
}) {
  const data = useMonitor(props.examId, props.onSignedOut);
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const [visited, setVisited] = useState<Set<TabKey>>(() => new Set([props.tab]));
  useEffect(() => setVisited((v) => (v.has(props.tab) ? v : new Set([...v, props.tab]))), [props.tab]);
  const chief = props.proctor.role === 'chief';
  const title = data.info?.title ?? props.examId;
  const attention = useAttention(data);
  useAttentionTitle(title, attention.length);
  const [sound, setSound] = useAttentionSound(props.proctor.username);
  const toasts = useAttentionToasts(attention, data.info !== undefined, () => {
    if (sound) playChime();
  });
  // The dialog's section is not in the address: it is where a toast asked to start, this time.
  const [section, setSection] = useState<Acting | undefined>(undefined);
  const acting: Acting | undefined =
    props.examinee === undefined
      ? undefined
      : { studentId: props.examinee, ...(section?.studentId === props.examinee ? { section: section.section } : {}) };
  const setActing = (next: Acting | undefined) => {
    setSection(next);
    props.onExaminee(next?.studentId);
  };
  const [replyTo, setReplyTo] = useState<{ studentId: string } | undefined>(undefined);
  const open = (item: AttentionItem) => {
    if (item.kind === 'question') {
      setReplyTo({ studentId: item.studentId });
      props.onTab('messages');
      return;
    }
    // Opening the dialog also selects the Participants tab (app.tsx), in one history entry.
    setActing({ studentId: item.studentId, section: ACTION_SECTIONS[item.kind] });
  };

  return (
    <section aria-labelledby="monitor-heading" class="monitor">
      <div class="monitor-head">
        <button type="button" class="secondary back" onClick={props.onBack}>
          <span aria-hidden="true">← </span>
          {t.proctor.backToExams}
        </button>
        <SoundSetting on={sound} onChange={setSound} />
      </div>
      {/* Sticky: the exam and whether its figures are live stay in view while a long list scrolls. */}
      <div class="monitor-title" data-testid="monitor-title">
        <h2 id="monitor-heading" ref={heading} tabIndex={-1}>
          {title}
        </h2>
        <LiveIndicator state={data.state} />
      </div>
      <Tabs
        idPrefix="monitor"
        label={t.proctor.tabsLabel}
        tabs={TAB_KEYS.map((key) => ({
          key,
          label:
            key === 'participants' && attention.length > 0
              ? t.proctor.attention.tabLabel(t.proctor.tabs[key], attention.length)
              : t.proctor.tabs[key],
          short: t.proctor.tabsShort[key],
          icon: TAB_ICONS[key],
          ...(key === 'participants' ? { badge: attention.length } : {}),
        }))}
        selected={props.tab}
        onSelect={props.onTab}
        visited={visited}
        render={(key) => {
          if (data.info === undefined) return <p>{t.common.loading}</p>;
          switch (key) {
            case 'info':
              return (
                <ExamInfoTab
                  examId={props.examId}
                  info={data.info}
                  rows={data.rows}
                  chief={chief}
                  offsetMs={data.offsetMs}
                  onInfo={data.applyInfo}
                />
              );
            case 'participants':
              return (
                <ParticipantsTab
                  examId={props.examId}
                  data={data}
                  chief={chief}
                  status={props.status}
                  onStatus={props.onStatus}
                  attention={attention}
                  acting={acting}
                  onActing={setActing}
                />
              );
            case 'messages':
              return <MessagesTab examId={props.examId} data={data} replyTo={replyTo} />;
            case 'preview':
              return <PreviewTab examId={props.examId} />;
            case 'resume':
              return <ResumeCodesTab examId={props.examId} rows={data.rows} />;
            case 'sync':
              return <SyncStatusTab />;
          }
        }}
      />
      <AttentionToasts toasts={toasts.toasts} onOpen={open} onDismiss={toasts.dismiss} onPause={toasts.pause} />
    </section>
  );
}
