/**
 * A sign-in screen: labelled fields, the refusal in an alert region, one submit button. Used by
 * the examinee app (student id, access code) and the proctor dashboard (username, password).
 */
import { useState } from 'preact/hooks';
import { useFocusOnMount } from './focus';

export interface SignInField {
  name: string;
  label: string;
  hint?: string;
  type?: 'text' | 'password';
  autocomplete: string;
  /** Access codes are upper case; usernames are not. */
  upperCase?: boolean;
}

export interface SignInFormProps {
  id: string;
  heading: string;
  intro?: string;
  fields: readonly SignInField[];
  submitLabel: string;
  busyLabel: string;
  initialError?: string | undefined;
  /** Resolves to the refusal to show, or undefined when signed in (this screen then goes away). */
  onSubmit: (values: Record<string, string>) => Promise<string | undefined>;
}

export function SignInForm(props: SignInFormProps) {
  const heading = useFocusOnMount<HTMLHeadingElement>();
  const [values, setValues] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(props.initialError ?? '');

  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy) return;
    setBusy(true);
    setError('');
    const trimmed = Object.fromEntries(props.fields.map((f) => [f.name, (values[f.name] ?? '').trim()]));
    const refusal = await props.onSubmit(trimmed);
    if (refusal !== undefined) {
      setError(refusal);
      setBusy(false);
    }
  };

  const headingId = `${props.id}-heading`;
  return (
    <section aria-labelledby={headingId}>
      <h2 id={headingId} ref={heading} tabIndex={-1}>
        {props.heading}
      </h2>
      {props.intro !== undefined && <p>{props.intro}</p>}
      <form onSubmit={submit} noValidate>
        {props.fields.map((f) => {
          const inputId = `${props.id}-${f.name}`;
          const inputProps = {
            id: inputId,
            name: f.name,
            value: values[f.name] ?? '',
            onInput: (e: Event) => {
              const value = (e.currentTarget as HTMLInputElement).value;
              setValues((v) => ({ ...v, [f.name]: value }));
            },
            required: true,
            autocomplete: f.autocomplete,
            autocapitalize: f.upperCase ? ('characters' as const) : ('none' as const),
            spellcheck: false,
            'aria-describedby': f.hint === undefined ? undefined : `${inputId}-hint`,
            'aria-invalid': error !== '',
          };
          return (
            <div class="field" key={f.name}>
              <label for={inputId}>{f.label}</label>
              {f.type === 'password' ? (
                <input type="password" {...inputProps} />
              ) : (
                <input type="text" {...inputProps} />
              )}
              {f.hint !== undefined && (
                <p id={`${inputId}-hint`} class="muted">
                  {f.hint}
                </p>
              )}
            </div>
          );
        })}
        <p role="alert" class="alert">
          {error}
        </p>
        <div>
          <button type="submit" disabled={busy}>
            {busy ? props.busyLabel : props.submitLabel}
          </button>
        </div>
      </form>
    </section>
  );
}
