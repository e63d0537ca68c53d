/**
 * Every string the examinee app and the proctor dashboard show, in English. A translation is a
 * copy of this file under another name (`fr.ts`, `ar.ts`, ...) exporting `catalogue` with the
 * same keys: client/src/i18n/index.ts picks it up by the browser's language, no code change.
 * `errors` overrides the appliance's English refusal messages by error code (domain/errors.ts);
 * codes left out show the message the appliance sent.
 */
import type { ErrorCode } from '../../../domain/errors.js';

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
      'You are already signed in on another device. A proctor must approve this device before you can continue.',
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
    tooManyFiles: (n: number) => `At most ${n} ${n === 1 ? 'file' : 'files'} for this question.`,
    fileNeedsNetwork: 'Files need the connection to the exam hall. Try again when it is back.',
    uploading: (name: string) => `Uploading ${name}`,
    uploadedFiles: 'Files handed in',
    fileSize: (bytes: number) =>
      bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} kB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`,
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
    fingerprint: 'SHA-256 of your answers',
    qrLabel: 'QR code of your signed receipt',
    qrHint: 'A proctor can scan this code to check your receipt.',
    save: 'Save the receipt',
    raw: 'The signed receipt',
  },
  proctor: {
    title: 'Proctor dashboard',
    signInHeading: 'Proctor sign-in',
    username: 'Username',
    password: 'Password',
    submit: 'Sign in',
    submitting: 'Signing in…',
    insecureConnection:
      'This connection is not secure (plain HTTP): the browser will not keep a proctor session. Open the appliance’s https:// address, or use the appliance itself at http://127.0.0.1.',
    signedInAs: (name: string, role: string) => `Signed in as ${name} (${role})`,
    roles: { chief: 'chief proctor', invigilator: 'invigilator' } as Record<string, string>,
    examsHeading: 'Exams on this appliance',
    noExams: 'No exams on this appliance yet. Import one with the appliance CLI.',
    startsAt: (time: string) => `Starts ${time}`,
    posted: 'Posted',
    downloaded: 'Downloaded',
    uploaded: 'Uploaded',
  },
  errors: {
    'download-window-not-open': 'The download window has not opened yet. Try again when it opens.',
    'download-window-closed': 'The download window has closed. Ask a proctor for help.',
    'download-limit-reached': 'You have used all your downloads for this exam. Ask a proctor for another.',
    'client-too-old': 'This app is too old for this exam. Reload the page to update it.',
  } as Partial<Record<ErrorCode, string>>,
};

export type Catalogue = typeof en;
export const catalogue: Catalogue = en;
