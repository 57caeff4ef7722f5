import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { useStrings } from '../i18n';
import { ErrorView, Loading, type useSubmit } from './ui';

interface FormCardProps {
  /** useSubmit's state for this form: busy flag, error summary, focus on the first invalid field. */
  submit: ReturnType<typeof useSubmit>;
  /** The visible heading, which also names the form. */
  heading: string;
  /** The heading's level: h3 for a screen's own forms, h4 for forms inside a section. */
  level?: 'h3' | 'h4';
  /** A sentence under the heading. */
  hint?: string;
  /** The request; its errors are shown by the form (fields and summary). */
  onSubmit: () => Promise<void>;
  onCancel: () => void;
  submitLabel?: string;
  /** A destructive submit (e.g. Reject) instead of the primary one. */
  danger?: boolean;
  /** Disables the submit button beyond the busy flag (e.g. until a required field is filled). */
  disabled?: boolean;
  children: ReactNode;
}

/** FormCard is the frame every create/edit form shares: heading, error summary, fields, Save and Cancel. */
export function FormCard({ submit, heading, level = 'h3', hint, onSubmit, onCancel, submitLabel, danger, disabled, children }: FormCardProps) {
  const strings = useStrings();
  const Heading = level;
  const run = (e: FormEvent) => {
    e.preventDefault();
    void submit.run(onSubmit);
  };
  return (
    <form ref={submit.formRef} onSubmit={run} noValidate className="cp-card" aria-label={heading}>
      <Heading>{heading}</Heading>
      {hint && <p className="cp-hint">{hint}</p>}
      {submit.summary}
      {children}
      <div className="cp-toolbar">
        <button type="submit" className={`cp-button ${danger ? 'cp-danger' : 'cp-primary'}`} disabled={submit.busy || disabled}>
          {submitLabel ?? strings.common.save}
        </button>
        <button type="button" className="cp-button" onClick={onCancel}>
          {strings.common.cancel}
        </button>
      </div>
    </form>
  );
}

/**
 * useFormValues keeps a form's string values. With read (an edit), it first reads the object and
 * its ETag (again when deps change) and fills the values from it; until then `pending` is what to render instead of the form
 * (Loading, or the error that stopped the read, with Retry).
 */
export function useFormValues<V extends Record<string, string>, T>(
  initial: V,
  read?: { load: () => Promise<{ data: T; etag?: string }>; values: (x: T) => V },
  deps: unknown[] = [],
) {
  const [values, setValues] = useState<V>(initial);
  const [etag, setEtag] = useState<string>();
  const [loaded, setLoaded] = useState(!read);
  const [error, setError] = useState<unknown>();
  const [attempt, setAttempt] = useState(0);
  const load = read?.load;
  const toValues = read?.values;

  useEffect(() => {
    if (!load || !toValues) return;
    setError(undefined);
    load().then(({ data, etag }) => {
      setValues(toValues(data));
      setEtag(etag);
      setLoaded(true);
    }, setError);
    // The read runs again only when deps change (the object); its functions are new on every render.
  }, [...deps, attempt]);

  const set = (k: keyof V) => (e: { target: { value: string } }) => setValues((v) => ({ ...v, [k]: e.target.value }));
  const pending = error !== undefined ? <ErrorView error={error} onRetry={() => setAttempt((n) => n + 1)} /> : !loaded ? <Loading /> : null;
  return { values, setValues, set, etag, pending };
}
