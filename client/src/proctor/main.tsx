import { render } from 'preact';
import './styles.css';
import { applyLanguage, t } from '../i18n';
import { registerServiceWorker } from '../shared/service-worker';
import { ProctorApp } from './app';

applyLanguage(document);
document.title = t.proctor.title;
render(<ProctorApp />, document.getElementById('app')!);
registerServiceWorker();
