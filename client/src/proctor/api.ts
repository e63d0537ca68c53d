/**
 * The proctor API as the dashboard uses it (appliance/src/http/proctor-routes.ts). The session is
 * an HttpOnly `__Host-` cookie the browser keeps; the browser's own Origin header passes the
 * appliance's check on every change.
 */
import { callApi, type ApiResult } from '../shared/api';

export interface Proctor {
  username: string;
  displayName: string;
  role: string;
}

export interface ExamSummary {
  examId: string;
  title: string;
  scheduledStart: string;
  totals: { posted: number; downloads: number; uploads: number; uploadDeadline: string | null };
  statusCounts: Record<string, number>;
}

export const login = (username: string, password: string): Promise<ApiResult<{ proctor: Proctor }>> =>
  callApi('/api/proctor/login', { method: 'POST', json: { username, password } });

export const me = (): Promise<ApiResult<{ proctor: Proctor }>> => callApi('/api/proctor/me');

export const logout = (): Promise<ApiResult<{ ok: true }>> => callApi('/api/proctor/logout', { method: 'POST' });

export const exams = (): Promise<ApiResult<{ exams: ExamSummary[] }>> => callApi('/api/proctor/exams');
