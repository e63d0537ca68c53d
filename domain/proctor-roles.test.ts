import { describe, expect, it } from 'vitest';
import { CHIEF_ONLY_ACTIONS, mayPerform, PROCTOR_ACTIONS, PROCTOR_ROLES } from './proctor-roles.js';

describe('mayPerform', () => {
  it('lets a chief proctor take every action', () => {
    for (const action of PROCTOR_ACTIONS)
      expect({ action, may: mayPerform('chief', action) }).toEqual({ action, may: true });
  });

  it('refuses an invigilator exactly the chief-only actions', () => {
    const refused = PROCTOR_ACTIONS.filter((action) => !mayPerform('invigilator', action));
    // The actions docs/proctoring.md names for chiefs only, alphabetically.
    expect([...refused].sort()).toEqual([
      'accommodation',
      'clock',
      'exam-password',
      'exam-settings',
      'preview-before-start',
      'proctoring',
      'remove-submission',
      'time-up-decision',
      'verification-mode',
      'verification-passwords',
    ]);
    expect(new Set(refused)).toEqual(CHIEF_ONLY_ACTIONS);
  });

  it('leaves the everyday actions to every proctor', () => {
    for (const role of PROCTOR_ROLES)
      for (const action of ['time-extension', 'bathroom-break', 'relogin', 'resume-code', 'verification'] as const)
        expect(mayPerform(role, action)).toBe(true);
  });

  it('knows only actions that exist', () => {
    for (const action of CHIEF_ONLY_ACTIONS) expect(PROCTOR_ACTIONS).toContain(action);
  });
});
