/**
 * The proctor dashboard: sign in, then the exams on this appliance with their tracking totals,
 * then an exam's monitor (monitor.tsx). Which exam and tab are open is kept in the address
 * (route.ts): a reload, Back or a shared link comes back to the same place, and so does a sign-in
 * after the appliance restarted (its proctor sessions live in memory). So is an open examinee
 * dialog: opening it adds a history entry, so Back closes it, as Back closes a sheet on a phone.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../i18n';
import { useFocusOnMount } from '../shared/focus';
import { SecureContextBanner } from '../shared/secure-context-banner';
import { SignInForm, type SignInField } from '../shared/sign-in-form';
import { exams, login, logout, me, type ExamSummary, type Proctor } from './api';
import { ClockPanel } from './clock-panel';
import { Monitor } from './monitor';
import { formatPlace, parsePlace, samePlace, type Place } from './route';
import { useLatest } from '../shared/use-latest';

/**
 * Set while this browser holds a proctor session, so that a fresh visit shows the sign-in form
 * straight away instead of asking the appliance first (and getting a 401 for an answer).
 */
const SIGNED_IN_KEY = 'exam-hall.proctor-signed-in';

type Screen =
  | { name: 'loading' }
  | { name: 'sign-in'; error?: string }
  | { name: 'exams'; proctor: Proctor; exams?: ExamSummary[]; error?: string };

/** Pushes a new history entry (Back returns), or replaces the current one (a filter change). */
function writePlace(place: Place | undefined, how: 'push' | 'replace'): void {
  const url = `${location.pathname}${location.search}${formatPlace(place)}`;
  if (how === 'push') history.pushState(null, '', url);
  else history.replaceState(null, '', url);
}

const FIELDS: readonly SignInField[] = [
  { name: 'username', label: t.proctor.username, autocomplete: 'username' },
  { name: 'password', label: t.proctor.password, type: 'password', autocomplete: 'current-password' },
];

export function ProctorApp() {
  const [screen, setScreen] = useState<Screen>({ name: 'loading' });
  const [place, setPlaceState] = useState<Place | undefined>(() => parsePlace(location.hash));
  // The place as last written, so that two changes in one event (a toast: tab and dialog) compose.
  const placeRef = useRef(place);
  // Whether the open dialog's history entry was pushed here, so that closing it goes Back to the
  // entry before (and Forward reopens it) instead of leaving a second copy of that place.
  const dialogPushed = useRef(false);
  const setPlace = (next: Place | undefined, how: 'push' | 'replace' = 'push') => {
    if (samePlace(next, placeRef.current)) return;
    writePlace(next, how);
    placeRef.current = next;
    setPlaceState(next);
  };
  const withoutExaminee = (p: Place): Place => ({ examId: p.examId, tab: p.tab, status: p.status });
  const setExaminee = (studentId: string | undefined) => {
    const current = placeRef.current;
    if (current === undefined) return;
    if (studentId !== undefined) {
      const opening = current.examinee === undefined;
      setPlace({ ...current, tab: 'participants', examinee: studentId }, opening ? 'push' : 'replace');
      if (opening) dialogPushed.current = true;
    } else if (current.examinee !== undefined) {
      if (dialogPushed.current) {
        dialogPushed.current = false;
        history.back();
      } else setPlace(withoutExaminee(current), 'replace');
    }
  };
  // Back and Forward: the address says where to be.
  useEffect(() => {
    const onPop = () => {
      const next = parsePlace(location.hash);
      placeRef.current = next;
      dialogPushed.current = false;
      setPlaceState(next);
    };
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  const showExams = async (proctor: Proctor) => {
    setScreen({ name: 'exams', proctor });
    const result = await exams();
    if (result.ok) setScreen({ name: 'exams', proctor, exams: result.body.exams });
    else if (result.status === 401) sessionLost();
    else setScreen({ name: 'exams', proctor, error: result.message });
  };

  // A 401 while this browser held a session: the appliance restarted (or the session ended).
  // The place stays in the address, so the sign-in comes back to it.
  const sessionLost = () => signedOut(t.proctor.sessionLost);

  const signedOut = (error?: string) => {
    localStorage.removeItem(SIGNED_IN_KEY);
    setScreen(error === undefined ? { name: 'sign-in' } : { name: 'sign-in', error });
  };

  // At start: a session kept from before goes straight to the exams.
  const start = useLatest(() => {
    if (localStorage.getItem(SIGNED_IN_KEY) === null) setScreen({ name: 'sign-in' });
    else
      void me().then((result) =>
        result.ok ? showExams(result.body.proctor) : result.status === 401 ? sessionLost() : signedOut(),
      );
  });
  useEffect(() => start.current(), [start]);

  const onSignIn = async (values: Record<string, string>) => {
    const result = await login(values.username ?? '', values.password ?? '');
    if (!result.ok) return result.message;
    localStorage.setItem(SIGNED_IN_KEY, '1');
    await showExams(result.body.proctor);
    return undefined;
  };

  return (
    <>
      <header class="page-header">
        <h1>{t.proctor.title}</h1>
        {screen.name === 'exams' && (
          <button
            type="button"
            class="secondary"
            onClick={async () => {
              await logout();
              signedOut();
            }}
          >
            {t.common.signOut}
          </button>
        )}
      </header>
      <main class={screen.name === 'exams' && place !== undefined ? 'page page-wide' : 'page'}>
        <SecureContextBanner detail={t.proctor.insecureConnection} />
        {screen.name === 'exams' && <ClockPanel proctor={screen.proctor} />}
        {screen.name === 'loading' && <p>{t.common.loading}</p>}
        {screen.name === 'sign-in' && (
          <SignInForm
            id="proctor-sign-in"
            heading={t.proctor.signInHeading}
            fields={FIELDS}
            submitLabel={t.proctor.submit}
            busyLabel={t.proctor.submitting}
            initialError={screen.error}
            onSubmit={onSignIn}
          />
        )}
        {screen.name === 'exams' && place !== undefined && (
          <Monitor
            key={place.examId}
            proctor={screen.proctor}
            examId={place.examId}
            tab={place.tab}
            onTab={(tab) => {
              dialogPushed.current = false;
              setPlace({ ...withoutExaminee(placeRef.current ?? place), tab });
            }}
            status={place.status}
            onStatus={(status) => setPlace({ ...(placeRef.current ?? place), status }, 'replace')}
            examinee={place.examinee}
            onExaminee={setExaminee}
            onBack={() => {
              setPlace(undefined);
              void showExams(screen.proctor);
            }}
            onSignedOut={sessionLost}
          />
        )}
        {screen.name === 'exams' && place === undefined && (
          <ExamList
            proctor={screen.proctor}
            exams={screen.exams}
            error={screen.error}
            onOpen={(examId) => setPlace({ examId, tab: 'participants', status: 'all' })}
          />
        )}
      </main>
    </>
  );
}

function ExamList(props: {
  proctor: Proctor;
  exams: ExamSummary[] | undefined;
  error: string | undefined;
  onOpen: (examId: string) => void;
}) {
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const { proctor } = props;
  const when = new Intl.DateTimeFormat(t.lang, { dateStyle: 'medium', timeStyle: 'short' });
  return (
    <section aria-labelledby="exams-heading">
      <p class="muted">{t.proctor.signedInAs(proctor.displayName, t.proctor.roles[proctor.role] ?? proctor.role)}</p>
      <h2 id="exams-heading" ref={heading} tabIndex={-1}>
        {t.proctor.examsHeading}
      </h2>
      {props.error !== undefined && (
        <p role="alert" class="alert">
          {props.error}
        </p>
      )}
      {props.exams === undefined && props.error === undefined && <p>{t.common.loading}</p>}
      {props.exams?.length === 0 && <p>{t.proctor.noExams}</p>}
      {props.exams !== undefined && props.exams.length > 0 && (
        <ul class="exam-list">
          {props.exams.map((exam) => (
            <li class="card" key={exam.examId}>
              <h3>{exam.title}</h3>
              <p class="muted">{t.proctor.startsAt(when.format(Date.parse(exam.scheduledStart)))}</p>
              <dl class="totals">
                <div>
                  <dt>{t.proctor.posted}</dt>
                  <dd>{exam.totals.posted}</dd>
                </div>
                <div>
                  <dt>{t.proctor.downloaded}</dt>
                  <dd>{exam.totals.downloads}</dd>
                </div>
                <div>
                  <dt>{t.proctor.uploaded}</dt>
                  <dd>{exam.totals.uploads}</dd>
                </div>
              </dl>
              <button
                type="button"
                aria-label={t.proctor.openMonitor(exam.title)}
                onClick={() => props.onOpen(exam.examId)}
              >
                {t.proctor.openMonitorShort}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
