/** The operator's back-off is the host layer's (one capped exponential back-off for the whole project). */
export * from '../../host/time/backoff';
