/**
 * A banner on every screen when the page is not a secure context (plain HTTP at a LAN address,
 * PROCTOR_HTTPS_MODE=off): the browser gives such a page no service worker, so it cannot reopen
 * without the network. The browser itself says so (`window.isSecureContext`), with no request:
 * on http://127.0.0.1 or localhost the page is secure and nothing shows.
 */
import { t } from '../i18n';

export function SecureContextBanner(props: { detail: string }) {
  if (window.isSecureContext) return null;
  return (
    <div class="secure-context-banner" role="note" data-testid="secure-context-banner">
      <strong>{t.box.noSecureContext}</strong> {props.detail}
    </div>
  );
}
