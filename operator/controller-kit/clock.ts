/** The operator's clock is the host layer's (one Clock for the whole project). */
export { FakeClock, sleep, systemClock, type Clock, type TimerHandle } from '../../host';
