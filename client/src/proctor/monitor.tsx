/**
 * The exam monitor: the exam's live state (useMonitor) under six tabs, as TomaSafe's Exam
 * Monitor lays them out (Exam info, Participants, Messages, Exam preview) plus Resume codes and
 * Sync status. The selected tab and filter are in the address (route.ts).
 */
import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n';
import { useFocusOnMount } from '../shared/focus';
import type { Proctor } from './api';
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

  return (
    <section aria-labelledby="monitor-heading" class="monitor">
      <div class="monitor-head">
        <button type="button" class="secondary back" onClick={props.onBack}>
          <span aria-hidden="true">← </span>
          {t.proctor.backToExams}
        </button>
        <LiveIndicator state={data.state} />
      </div>
      <h2 id="monitor-heading" ref={heading} tabIndex={-1}>
        {title}
      </h2>
      <Tabs
        idPrefix="monitor"
        label={t.proctor.tabsLabel}
        tabs={TAB_KEYS.map((key) => ({
          key,
          label:
            key === 'participants' && attention.length > 0
              ? t.proctor.attention.tabLabel(t.proctor.tabs[key], attention.length)
              : t.proctor.tabs[key],
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
                />
              );
            case 'messages':
              return <MessagesTab examId={props.examId} data={data} />;
            case 'preview':
              return <PreviewTab examId={props.examId} />;
            case 'resume':
              return <ResumeCodesTab examId={props.examId} rows={data.rows} />;
            case 'sync':
              return <SyncStatusTab />;
          }
        }}
      />
    </section>
  );
}
