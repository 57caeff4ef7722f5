import { cleanup } from '@testing-library/react';
import { afterEach, beforeEach, vi } from 'vitest';
import { resetAuthRegistry } from '../auth';
import { resetConfigCache } from '../config';
import { resetKeycloak } from './fakeKeycloak';

vi.mock('keycloak-js', () => import('./fakeKeycloak'));

beforeEach(() => {
  // Widgets render through custom elements, outside RTL's render(); act() warnings would be noise.
  (globalThis as { IS_REACT_ACT_ENVIRONMENT?: boolean }).IS_REACT_ACT_ENVIRONMENT = false;
  resetKeycloak();
  resetAuthRegistry();
  resetConfigCache();
});

afterEach(() => {
  cleanup();
  document.body.innerHTML = '';
  window.location.hash = '';
  vi.unstubAllGlobals();
});
