/**
 * The receipt screen: the submission is with the appliance, signed (Ed25519, receipt/v2). The
 * examinee sees when, what and how it stood against the time (the timing case) (the SHA-256 of the answer file), can show a proctor the QR code
 * (the whole signed receipt, verifiable with `npm run appliance -- verify-receipt`) and save the
 * receipt as a file. The receipt stays on the device.
 */
import { useMemo } from 'preact/hooks';
import { encode } from 'uqr';
import { t } from '../i18n';
import { useFocusOnMount } from '../shared/focus';
import type { Receipt } from './local-db';

/** The QR code of a text as SVG squares (no HTML strings). */
function QrCode(props: { text: string; label: string }) {
  const qr = useMemo(() => encode(props.text, { ecc: 'L', border: 2 }), [props.text]);
  const path = useMemo(() => {
    const parts: string[] = [];
    qr.data.forEach((row, y) =>
      row.forEach((dark, x) => {
        if (dark) parts.push(`M${x} ${y}h1v1h-1z`);
      }),
    );
    return parts.join('');
  }, [qr]);
  return (
    <svg
      class="qr"
      role="img"
      aria-label={props.label}
      viewBox={`0 0 ${qr.size} ${qr.size}`}
      shape-rendering="crispEdges"
      data-testid="receipt-qr"
    >
      <rect width={qr.size} height={qr.size} fill="#fff" />
      <path d={path} fill="#000" />
    </svg>
  );
}

export function ReceiptView(props: { receipt: Receipt; title: string }) {
  const { receipt, title } = props;
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const text = JSON.stringify(receipt);
  const received = new Intl.DateTimeFormat(t.lang, { dateStyle: 'medium', timeStyle: 'medium' }).format(
    Date.parse(receipt.payload.receivedAt),
  );
  const href = useMemo(() => URL.createObjectURL(new Blob([text], { type: 'application/json' })), [text]);
  return (
    <section aria-labelledby="receipt-heading" class="stack" data-testid="receipt">
      <h2 id="receipt-heading" ref={heading} tabIndex={-1}>
        {t.receipt.heading}
      </h2>
      <p class="notice-ok" role="status">
        {t.receipt.intro(title)}
      </p>
      <dl class="receipt-facts">
        <dt>{t.receipt.student}</dt>
        <dd>{receipt.payload.studentId}</dd>
        <dt>{t.receipt.received}</dt>
        <dd>{received}</dd>
        <dt>{t.receipt.type}</dt>
        <dd>{receipt.payload.submissionType === 'automatic' ? t.receipt.automatic : t.receipt.manual}</dd>
        {receipt.payload.timing !== undefined && (
          <>
            <dt>{t.receipt.timingLabel}</dt>
            <dd data-testid="receipt-timing" data-timing={receipt.payload.timing}>
              {t.receipt.timing[receipt.payload.timing] ?? receipt.payload.timing}
            </dd>
          </>
        )}
        <dt>{t.receipt.submission}</dt>
        <dd class="mono">{receipt.payload.submissionId}</dd>
        <dt>{t.receipt.fingerprint}</dt>
        <dd class="mono break" data-testid="receipt-sha256">
          {receipt.payload.sha256}
        </dd>
      </dl>
      <QrCode text={text} label={t.receipt.qrLabel} />
      <p class="muted">{t.receipt.qrHint}</p>
      <p>
        <a href={href} download={`receipt-${receipt.payload.examId}-${receipt.payload.studentId}.json`}>
          {t.receipt.save}
        </a>
      </p>
      <details>
        <summary>{t.receipt.raw}</summary>
        <pre class="mono break">{JSON.stringify(receipt, null, 2)}</pre>
      </details>
    </section>
  );
}
