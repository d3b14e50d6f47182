/** The operator's back-off is the host layer's (one capped exponential back-off for the whole project). */
export {
  Backoff,
  DEFAULT_ITEM_BACKOFF,
  DEFAULT_WATCH_BACKOFF,
  KeyedBackoff,
  backoffDelay,
  type BackoffOptions,
} from '../../host';
