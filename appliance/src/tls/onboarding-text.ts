/**
 * The words of the HTTPS onboarding page (served over plain HTTP on PROCTOR_HTTP_PORT), kept
 * apart from the markup like the client's catalogue (client/src/i18n/en.ts), so a translation is
 * another object of the same shape.
 */
export interface Platform {
  id: string;
  name: string;
  steps: string[];
  note?: string;
}

export const ONBOARDING_EN = {
  lang: 'en',
  title: (name: string) => `Connect to ${name} securely`,
  intro:
    'This exam hall’s appliance serves the exam over a secure connection (HTTPS) signed by its own certificate authority. ' +
    'Install that certificate once on this device: then the exam app opens without warnings and keeps working, even after a reload, when the Wi-Fi drops.',
  managed:
    'On school-managed devices, your IT team can install it for everyone (Windows Group Policy or Intune, Apple MDM, the Google Admin console): give them the file below.',
  downloadHeading: '1. Download the hall certificate',
  downloadCrt: 'Download the certificate (.crt)',
  downloadPem: 'The same as PEM text (.pem)',
  fingerprintHeading: 'Check it is this hall’s',
  fingerprintIntro:
    'Before you trust it, compare this SHA-256 fingerprint with the one your device shows for the file (and with the one on the proctors’ notice):',
  sha256Label: 'SHA-256',
  sha1Label: 'SHA-1 (Windows calls it “Thumbprint”)',
  installHeading: '2. Install and trust it',
  installIntro: 'Choose your device:',
  openHeading: '3. Open the exam app',
  openIntro:
    'When the certificate is installed, open the app over HTTPS. If your browser still warns, close it completely and open it again.',
  openButton: 'Open the exam app',
  proctorLink: 'Proctors: open the dashboard',
  trusted: 'This device already trusts the hall’s certificate. Opening the exam app…',
  platforms: [
    {
      id: 'windows',
      name: 'Windows',
      steps: [
        'Open the downloaded file and choose “Install Certificate…”.',
        'Choose “Current User” (or “Local Machine” for everyone on this computer), then Next.',
        'Choose “Place all certificates in the following store”, Browse, and pick “Trusted Root Certification Authorities”.',
        'Next, Finish. Windows warns and shows a “Thumbprint”: it is the SHA-1 fingerprint above. Answer Yes when they match.',
      ],
      note: 'Chrome and Edge use this store; Firefox uses it too since version 68 (setting security.enterprise_roots.enabled).',
    },
    {
      id: 'macos',
      name: 'macOS',
      steps: [
        'Open the downloaded file: Keychain Access adds it to the “login” keychain.',
        'In Keychain Access, double-click the certificate (its name ends with “exam hall CA”).',
        'Open “Trust” and set “When using this certificate” to “Always Trust”.',
        'Close the window and enter your password to confirm.',
      ],
    },
    {
      id: 'ios',
      name: 'iPhone and iPad',
      steps: [
        'Open this page in Safari and tap the download link; allow the configuration profile to download.',
        'Open Settings, tap “Profile Downloaded” near the top, then Install (enter your passcode).',
        'Go to Settings → General → About → Certificate Trust Settings.',
        'Turn on full trust for the certificate ending with “exam hall CA”.',
      ],
    },
    {
      id: 'android',
      name: 'Android',
      steps: [
        'Tap the download link and save the file.',
        'Open Settings → Security (or Security & privacy) → More security settings → Encryption & credentials.',
        'Tap “Install a certificate” → “CA certificate” → “Install anyway”, and choose the downloaded file.',
        'Use Chrome for the exam: it trusts certificates installed this way.',
      ],
      note: 'The menu names differ a little between makers; search Settings for “CA certificate”.',
    },
    {
      id: 'chromeos',
      name: 'Chromebook (ChromeOS)',
      steps: [
        'Download the file.',
        'Open chrome://certificate-manager (older versions: chrome://settings/certificates) and choose the “Authorities” tab.',
        'Choose Import, pick the downloaded file.',
        'Tick “Trust this certificate for identifying websites” and choose OK.',
      ],
      note: 'Managed Chromebooks: an administrator adds it in the Google Admin console under Devices → Networks → Certificates.',
    },
  ] satisfies Platform[],
} as const;

export type OnboardingText = typeof ONBOARDING_EN;
