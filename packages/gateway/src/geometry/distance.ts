// The model's, so that the gateway and the browsers measure alike.
export { distanceMeters } from '@civicloop/model';
