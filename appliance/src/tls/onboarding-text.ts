/**
 * The words of the HTTPS onboarding page (served over plain HTTP on PROCTOR_HTTP_PORT), kept
 * apart from the markup like the client's catalogue (client/src/i18n/en.ts), so a translation is
 * another object of the same shape.
 */
export interface Platform {
  id: string;
  name: string;
  steps: string[];
  /** Terminal commands, shown as code; `{name}` is the appliance's name, `{file}` the PEM file's. */
  commands?: string[];
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
      note: 'Chrome and Edge use this store; so does Firefox 120 and later (see Firefox below).',
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
    {
      id: 'linux',
      name: 'Linux (Debian, Ubuntu, Raspberry Pi OS)',
      steps: [
        'Download the PEM text file (.pem) above.',
        'In a terminal, copy it into the system’s certificate store under a name ending in .crt and update the store (the first two commands below; they need sudo). Fedora: copy it to /etc/pki/ca-trust/source/anchors/ and run sudo update-ca-trust.',
        'Chrome and Chromium on Linux use their own store (NSS, in your home folder): add it there with certutil (the last command; sudo apt install libnss3-tools first), or open chrome://certificate-manager → Authorities → Import and tick “Trust this certificate for identifying websites”.',
        'Firefox keeps its own store as well: follow the Firefox steps below.',
        'Close the browser completely and open it again.',
      ],
      commands: [
        'sudo cp ~/Downloads/{file} /usr/local/share/ca-certificates/{name}-ca.crt',
        'sudo update-ca-certificates',
        'certutil -d sql:$HOME/.pki/nssdb -A -t "C,," -n "{name} exam hall CA" -i ~/Downloads/{file}',
      ],
      note: 'No ~/.pki/nssdb yet? Open Chrome once, or run mkdir -p ~/.pki/nssdb && certutil -d sql:$HOME/.pki/nssdb -N --empty-password. Chromium installed as a snap uses ~/snap/chromium/current/.pki/nssdb instead.',
    },
    {
      id: 'firefox',
      name: 'Firefox (any computer)',
      steps: [
        'On Windows, macOS and Android, install the certificate for the system first (above): Firefox 120 and later then trust it by themselves (Settings → Privacy & Security → Certificates: “Allow Firefox to automatically trust third-party root certificates you install”). On an older Firefox, open about:config and set security.enterprise_roots.enabled to true.',
        'On Linux (or to use Firefox’s own store anywhere): open Settings → Privacy & Security → Certificates → View Certificates… → Authorities → Import…, and choose the downloaded file.',
        'Tick “Trust this CA to identify websites” and choose OK.',
        'Close Firefox completely and open it again.',
      ],
      note: 'Managed Firefox: an administrator deploys the file with the Certificates → Install enterprise policy (policies.json).',
    },
  ] satisfies Platform[],
} as const;

export type OnboardingText = typeof ONBOARDING_EN;
