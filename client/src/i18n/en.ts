/**
 * Every string the examinee app and the proctor dashboard show, in English; the dashboard's
 * (`proctor`) are in en/proctor.ts. A translation is a copy of this file under another name
 * (`fr.ts`, `ar.ts`, ..., with its own folder for the dashboard's part) exporting `catalogue` with
 * the same keys (the type Catalogue checks them): client/src/i18n/index.ts picks it up by the
 * browser's language, no code change.
 * `errors` overrides the appliance's English refusal messages by error code (domain/errors.ts);
 * codes left out show the message the appliance sent.
 */
import type { ErrorCode } from '../../../domain/errors.js';
import { proctor } from './en/proctor.js';
import { snapshots } from './en/proctoring.js';

const pad = (n: number) => String(n).padStart(2, '0');

/** 754000 -> "12:34"; 4_354_000 -> "1:12:34". */
export function clockText(ms: number): string {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
}

export const en = {
  lang: 'en',
  dir: 'ltr' as 'ltr' | 'rtl',
  app: {
    name: 'Exam hall',
    shortName: 'Exam',
    description: 'Take your exam in the exam hall, also when the Wi-Fi drops.',
  },
  common: {
    loading: 'Loading…',
    networkError: 'The exam hall appliance cannot be reached. Check that you are on the hall Wi-Fi and try again.',
    unexpectedAnswer: (status: number) => `The appliance answered unexpectedly (HTTP ${status}). Try again.`,
    signOut: 'Sign out',
  },
  signIn: {
    heading: 'Sign in to your exam',
    intro: 'Use the student ID and access code you were given for this exam.',
    studentId: 'Student ID',
    accessCode: 'Access code',
    accessCodeHint: '12 letters and digits; dashes and spaces do not matter.',
    submit: 'Sign in',
    submitting: 'Signing in…',
    waitingForApproval:
      'You are already signed in on another device. A proctor must approve this device before you can continue; this page carries on by itself once they have.',
    checkAgain: 'Check again',
    insecureConnection:
      'This connection is not secure (plain HTTP), so this page cannot reopen without the network. Keep this tab open during the exam.',
  },
  lobby: {
    heading: 'Exam lobby',
    signedInAs: (name: string, studentId: string) => `Signed in as ${name} (${studentId})`,
    startsAt: (time: string) => `Starts at ${time}`,
    duration: (minutes: number) => `${minutes} minutes`,
    startsInLabel: 'Time until the start',
    startsIn: (ms: number) => clockText(ms),
    started: 'The exam has started.',
    downloadsLeft: (left: number, max: number) => `Downloads left: ${left} of ${max}`,
    applianceTimeNote: 'Times follow the exam hall’s clock, not your device’s.',
  },
  download: {
    heading: 'Download the exam',
    intro: 'Download the exam before the start. It stays locked on this device until the exam begins.',
    button: 'Download exam',
    downloading: 'Downloading…',
    progressLabel: 'Download progress',
    progressText: (received: number, total: number | undefined) =>
      total === undefined
        ? `${Math.round(received / 1024)} kB`
        : `${Math.floor((received / Math.max(1, total)) * 100)} % (${Math.round(received / 1024)} of ${Math.max(1, Math.round(total / 1024))} kB)`,
    done: 'The exam is on this device, locked until the start.',
    doneStarted: 'The exam is on this device.',
    opensAt: (time: string) => `Downloads open at ${time}.`,
    closed: 'The download window has closed. Ask a proctor for help.',
    noneLeft: 'You have no downloads left. Ask a proctor for another.',
    storageFailed: 'This browser would not keep the exam (its storage is full or blocked). Ask a proctor for help.',
  },
  start: {
    opening: 'Opening the exam…',
    notDownloaded: 'The exam has started, but it is not on this device. Download it now.',
    keyUnavailable:
      'The exam key could not be fetched from the appliance. Ask a proctor for the exam password and enter it below.',
    brokenPackage: 'The exam on this device is damaged. Download it again or ask a proctor.',
    passwordHeading: 'Start with the exam password',
    passwordIntro: 'If the network is down, a proctor reads out the exam password at the start.',
    passwordLabel: 'Exam password',
    passwordHint: '12 letters and digits; dashes and spaces do not matter.',
    passwordSubmit: 'Start the exam',
    passwordChecking: 'Checking…',
    wrongPassword: 'That password does not open this exam. Check it and try again.',
  },
  offline: {
    // ---- the lobby with no network (app.tsx, exam-start.tsx) ----
    heading: 'Offline',
    lobbyNotice: (time: string) =>
      `The exam hall appliance cannot be reached. What you see is from the last contact, at ${time}; the countdown keeps to the hall’s clock as measured then. This page reconnects by itself when the network is back.`,
    passwordIntro:
      'You can start without the network: when a proctor reads out the exam password, type it below. Your answers are kept on this device and reach the appliance when the network is back.',
    downloadNeedsNetwork:
      'The exam is not on this device yet, and downloading it needs the exam hall’s network. Connect to the hall Wi-Fi: the download comes back here by itself.',
    noCopyHeading: 'No connection to the exam hall',
    noCopy:
      'You are signed in on this device, but the exam has not been downloaded to it yet. Seeing and downloading the exam needs the exam hall’s network. Connect to the hall Wi-Fi: this page carries on by itself.',
    tryAgain: 'Try again',
    trying: 'Trying…',
    signInNeedsNetwork: 'No network: signing in needs the exam hall’s network. Connect to the hall Wi-Fi first.',
  },
  exam: {
    // ---- lock screen, integrity, messages, bathroom break (lock-screen.tsx, integrity.ts, messages-panel.tsx) ----
    lock: {
      heading: 'Your exam is locked',
      reasons: {
        reload: 'The exam page was reloaded or opened again.',
        'fullscreen-exit': 'You left full screen.',
      } as Record<string, string>,
      otherReason: 'The exam was locked on this device.',
      answersSafe: 'Your answers are kept on this device. The exam time keeps running.',
      raiseHand: 'Raise your hand and read this continuation code to a proctor. The proctor gives you a resume code.',
      codeLabel: 'Continuation code',
      codeNumber: (n: number, total: number) => `Code ${n} of ${total}`,
      inputLabel: 'Resume code from the proctor',
      inputHint: '10 letters and digits, like ABCDE-12345. Capitals, dashes and spaces do not matter.',
      malformed: 'A resume code has 10 letters and digits. Check what you typed.',
      unlock: 'Unlock the exam',
      checking: 'Checking the code…',
      wrong: (left: number) =>
        `That resume code is not right. ${left} ${left === 1 ? 'try' : 'tries'} left for this continuation code.`,
      wrongSpent: (tries: number) =>
        `That resume code was wrong ${tries} times, so this continuation code is used up. Read the new continuation code to a proctor.`,
      nextShown: (code: string) => `New continuation code: ${code}. Read it to a proctor.`,
      lost: 'I lost the code: show the next continuation code',
      lostConfirm: (code: string) =>
        `This uses up continuation code ${code}: a resume code for it will no longer work. Show the next one?`,
      lostYes: 'Yes, show the next code',
      lostNo: 'Cancel',
      allSpent:
        'All continuation codes on this device are used up. Raise your hand and ask for the chief proctor. Your answers stay on this device.',
      offlineNote: 'No network is needed: the code is checked on this device.',
    },
    integrity: {
      notice:
        'During the exam, this device tells the proctors when you leave the exam window, switch tabs, leave full screen, copy or paste.',
      fullscreenRequired: 'This exam is taken in full screen.',
      enterFullscreen: 'Go to full screen',
      fullscreenRefused: 'The browser did not switch to full screen. Try the button again or ask a proctor.',
      fullscreenUnsupported: 'This browser cannot show the exam in full screen. Tell a proctor.',
    },
    messages: {
      heading: 'Messages',
      unread: (n: number) => `${n} unread`,
      none: 'No messages yet.',
      listLabel: 'Messages, newest first',
      announcement: 'Announcement to everyone',
      toYou: 'To you',
      yourQuestion: 'Your question',
      aboutQuestion: (n: number | string) => `About question ${n}`,
      newMessage: (text: string) => `New message from the proctors: ${text}`,
      newMessages: (n: number) => `${n} new messages from the proctors.`,
      askHeading: 'Ask the proctors',
      askLabel: 'Your question',
      askHint: 'A proctor answers here or comes to your seat.',
      aboutCurrent: (n: number | string) => `It is about question ${n}`,
      send: 'Send',
      empty: 'Write your question first.',
      tooLong: (max: number) => `At most ${max} characters.`,
      offline:
        'No connection now: a question you send is kept on this device and goes to the proctors as soon as the connection is back.',
      queued: 'Waiting for the connection',
      sent: 'Sent',
      notSent: (reason: string) => `Not sent: ${reason}`,
    },
    bathroom: {
      heading: 'Bathroom break',
      request: 'Request a bathroom break',
      requesting: 'Asking…',
      requested: 'You asked for a bathroom break. Stay in your seat until a proctor tells you to go.',
      approved: 'A proctor approved your break. Go now, and press the button below when you are back.',
      later: 'A proctor asked you to wait. You will be told when you can go.',
      rejected: 'A proctor did not approve a break now. Raise your hand if you need to.',
      returned: 'Welcome back. Your break is recorded.',
      back: 'I am back from the break',
      backHint: 'Press it when a proctor has let you go and you are back in your seat.',
      notApprovedYet: 'A proctor has not approved a break for you yet. Wait for a proctor.',
      needsNetwork: 'A bathroom break needs the connection to the exam hall. Raise your hand instead.',
    },
    // ---- end of lock screen, integrity, messages, bathroom break ----
    questionOf: (x: number, y: number) => `Question ${x} of ${y}`,
    points: (n: number) => (n === 1 ? '1 point' : `${n} points`),
    flagForReview: 'Flag this question to come back to it',
    clearAnswer: 'Clear my answer',
    wordCount: (n: number, max?: number) =>
      max === undefined ? `${n} ${n === 1 ? 'word' : 'words'}` : `${n} of at most ${max} words`,
    notANumber: 'This is not a number yet: it is not saved. Use digits, with a point or comma for decimals.',
    numberHint: 'A number, e.g. 3.5',
    chooseFiles: 'Choose files to hand in',
    chooseAnotherFile: (maxFiles: number) => (maxFiles === 1 ? 'Replace the file handed in' : 'Hand in another file'),
    noFileYet: 'No file handed in yet',
    filesHandedIn: (n: number) => `${n} ${n === 1 ? 'file' : 'files'} handed in`,
    tooManyFiles: (n: number) => `At most ${n} ${n === 1 ? 'file' : 'files'} for this question.`,
    fileNeedsNetwork: 'Files need the connection to the exam hall. Try again when it is back.',
    uploading: (name: string) => `Uploading ${name}`,
    uploadedFiles: 'Files handed in',
    /** 135 -> "135 bytes", 1 -> "1 byte", 2048 -> "2 kB", 3_670_016 -> "3.5 MB". */
    fileSize: (bytes: number) =>
      bytes < 1024
        ? `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`
        : bytes < 1024 * 1024
          ? `${Math.round(bytes / 1024)} kB`
          : `${(bytes / 1024 / 1024).toFixed(1)} MB`,
    removeFile: (name: string) => `Remove ${name}`,
    yourAnswer: 'Your answer',
    trueLabel: 'True',
    falseLabel: 'False',
    chooseOne: 'Choose one answer.',
    chooseAny: 'Choose every answer that applies.',
    maxCharacters: (n: number) => `At most ${n} characters.`,
    maxWords: (n: number) => `At most ${n} words.`,
    fileRules: (accept: string[], maxFiles: number, maxMegabytes: number) =>
      `${accept.length === 0 ? 'Any file type' : `File types: ${accept.join(', ')}`}; up to ${maxFiles} ${maxFiles === 1 ? 'file' : 'files'} of at most ${maxMegabytes} MB.`,
  },
  session: {
    statusRegion: 'Exam status',
    timeLeft: 'Time left',
    answeredOf: (x: number, y: number) => `${x} of ${y} answered`,
    connection: {
      online: 'Connected: answers saved',
      sending: 'Saving…',
      offline: 'Offline: answers kept on this device',
      refused: 'The appliance no longer takes answers',
    },
    extended: (minutes: number) => `Your time was extended by ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}.`,
    lastMinute: 'Less than one minute left. Your answers are submitted automatically at the end.',
    questionsNav: 'Questions',
    paletteLabel: (n: number, answered: boolean, flagged: boolean) =>
      `Question ${n}${answered ? ', answered' : ', not answered'}${flagged ? ', flagged' : ''}`,
    previous: 'Previous',
    next: 'Next',
    reviewAndSubmit: 'Review and submit',
    reviewHeading: 'Review your answers',
    unansweredList: (n: number) => `${n} ${n === 1 ? 'question is' : 'questions are'} not answered:`,
    flaggedList: (n: number) => `${n} ${n === 1 ? 'question is' : 'questions are'} flagged:`,
    submitFinal: 'After you submit you cannot change your answers.',
    backToQuestions: 'Back to the questions',
    submit: 'Submit my answers',
    confirmQuestion: 'Submit now? This cannot be undone.',
    confirmSubmit: 'Yes, submit',
    cancel: 'Cancel',
    sealedHeading: 'Your answers are submitted on this device',
    sending: 'Sending your answers to the exam hall…',
    sealedOffline:
      'There is no connection to the exam hall right now. Your answers are sealed on this device and will be sent as soon as the connection is back. Keep this page open.',
    sealedFingerprint: (short: string) => `Fingerprint of your answers: ${short}…`,
    tryAgain: 'Try again',
    movedHeading: 'Your exam continues on another device',
    moved:
      'A proctor approved your sign-in on another device, so your exam goes on there. Nothing typed on this device from now on is saved. Your answers up to then are with the exam hall.',
    movedAnswers: 'Your answers as this device kept them (read-only):',
    movedSignIn: 'Sign in on this device again',
    movedSignInHint: 'Signing in here again asks a proctor to move your exam back to this device.',
    reopened:
      'A proctor reopened your exam: your submission no longer counts. Your answers are as the exam hall holds them; submit again when you are done.',
  },
  receipt: {
    heading: 'Submission received',
    intro: (title: string) => `Your answers to “${title}” are with the exam hall.`,
    student: 'Student ID',
    received: 'Received',
    type: 'Submitted',
    manual: 'by you',
    automatic: 'automatically at the end of the time',
    submission: 'Submission',
    timingLabel: 'Timing',
    /** The time-up case on the signed receipt (domain/time-up.ts), in plain words. */
    timing: {
      'on-time': 'On time',
      'sealed-at-time-up': 'On time: sealed when your time was up',
      'sealed-offline':
        'On time: sealed when your time was up while this device was offline; your answers are the ones the exam hall already held then',
      'changed-after-time-up':
        'Received after your time was up, with answers changed since then. Both versions are kept, and the chief proctor decides which one counts.',
      late: 'Late: received after your time and the grace period were over',
    } as Record<string, string>,
    fingerprint: 'SHA-256 of your answers',
    qrLabel: 'QR code of your signed receipt',
    qrHint: 'A proctor can scan this code to check your receipt.',
    save: 'Save the receipt',
    raw: 'The signed receipt',
  },
  proctor,
  snapshots,
  errors: {
    'download-window-not-open': 'The download window has not opened yet. Try again when it opens.',
    'download-window-closed': 'The download window has closed. Ask a proctor for help.',
    'download-limit-reached': 'You have used all your downloads for this exam. Ask a proctor for another.',
    'client-too-old': 'This app is too old for this exam. Reload the page to update it.',
  } as Partial<Record<ErrorCode, string>>,
  /** The box itself: secure context (HTTPS) and the appliance's clock (docs/https-and-time.md). */
  box: {
    noSecureContext: 'Offline reload is not available.',
    clockNotConfirmedExaminee:
      'The exam hall’s clock has not been confirmed yet; a proctor is on it. The exam opens as soon as it is.',
    clockHeading: 'Confirm the appliance’s time',
    clockIntro:
      'The appliance’s clock is not synchronised (no time server), so no exam opens until a chief proctor confirms the time.',
    applianceTime: 'Appliance time',
    deviceTime: 'This device’s time',
    difference: (seconds: number) =>
      seconds === 0
        ? 'They agree.'
        : `This device is ${Math.abs(seconds)} seconds ${seconds > 0 ? 'ahead of' : 'behind'} the appliance.`,
    confirm: 'The appliance’s time is right',
    setFromDevice: 'Set it to this device’s time',
    working: 'Saving…',
    askChief: 'Ask a chief proctor to confirm the time on their dashboard.',
    confirmed: 'The appliance’s time is confirmed. Exams can open.',
  },
};

export type Catalogue = typeof en;
export const catalogue: Catalogue = en;
