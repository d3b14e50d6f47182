/** The operator's clock is the host layer's (one Clock for the whole project). */
export * from '../../host/time/clock';
