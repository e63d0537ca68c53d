import { useRef } from 'preact/hooks';

/**
 * A ref that always holds the latest value (React's "effect event" pattern, which Preact has no
 * hook for): an effect that runs once, or a long-lived callback (a stream, a timer), calls what
 * the latest render passed without being restarted when it changes.
 */
export function useLatest<T>(value: T): { readonly current: T } {
  const ref = useRef(value);
  ref.current = value;
  return ref;
}
