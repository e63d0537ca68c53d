import { render } from 'preact';
import './styles.css';
import { applyLanguage, t } from '../i18n';
import { registerServiceWorker } from '../shared/service-worker';
import { ExamineeApp } from './app';

applyLanguage(document);
document.title = t.app.name;
render(<ExamineeApp />, document.getElementById('app')!);
registerServiceWorker();
