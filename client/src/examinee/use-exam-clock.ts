/**
 * Time as the exam screen sees it: the appliance's clock (ApplianceClock: the
 * device's clock corrected by the offset measured at each contact, so a device clock hours off
 * changes nothing) and whether the time is up. (Whether the browser is online: shared/online.ts.)
 */
import { useEffect, useState } from 'preact/hooks';
import type { ApplianceClock } from '../shared/appliance-clock';

const TICK_MS = 250;

/** The appliance's time, refreshed every 250 ms (only where it is shown: the timer). */
export function useNow(clock: ApplianceClock): number {
  const [now, setNow] = useState(() => clock.now() ?? Date.now());
  useEffect(() => {
    const tick = setInterval(() => setNow(clock.now() ?? Date.now()), TICK_MS);
    return () => clearInterval(tick);
  }, [clock]);
  return now;
}

/** Whether `deadline` has passed on the appliance's clock (changes once, not every tick). */
export function useTimeUp(clock: ApplianceClock, deadline: number): boolean {
  const passed = () => (clock.now() ?? Date.now()) >= deadline;
  const [up, setUp] = useState(passed);
  useEffect(() => {
    const check = () => setUp((clock.now() ?? Date.now()) >= deadline);
    check();
    const tick = setInterval(check, TICK_MS);
    return () => clearInterval(tick);
  }, [clock, deadline]);
  return up;
}
