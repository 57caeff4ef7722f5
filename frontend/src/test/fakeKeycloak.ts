// A stand-in for keycloak-js with the same surface the auth module uses; tests steer it through kc.
export const kc = {
  authenticated: true,
  token: 'tok-1',
  refreshTokens: [] as string[],
  failRefresh: false,
  instances: [] as FakeKeycloak[],
  initCalls: 0,
  updateCalls: [] as number[],
  loginCalls: [] as unknown[],
  logoutCalls: [] as unknown[],
  /** Lets a test hold init open to prove concurrent widgets wait for the same one. */
  initGate: null as Promise<void> | null,
};

export function resetKeycloak(): void {
  kc.authenticated = true;
  kc.token = 'tok-1';
  kc.refreshTokens = [];
  kc.failRefresh = false;
  kc.instances = [];
  kc.initCalls = 0;
  kc.updateCalls = [];
  kc.loginCalls = [];
  kc.logoutCalls = [];
  kc.initGate = null;
}

export default class FakeKeycloak {
  config: unknown;
  initOptions: unknown;
  authenticated = false;
  token?: string;
  onAuthLogout?: () => void;
  onAuthSuccess?: () => void;

  constructor(config: unknown) {
    this.config = config;
    kc.instances.push(this);
  }

  async init(options: unknown): Promise<boolean> {
    kc.initCalls++;
    this.initOptions = options;
    if (kc.initGate) await kc.initGate;
    this.authenticated = kc.authenticated;
    this.token = kc.authenticated ? kc.token : undefined;
    return this.authenticated;
  }

  async updateToken(minValidity: number): Promise<boolean> {
    kc.updateCalls.push(minValidity);
    if (minValidity < 0) {
      if (kc.failRefresh) throw new Error('refresh failed');
      this.token = kc.refreshTokens.shift() ?? this.token;
      return true;
    }
    return false;
  }

  async login(options: unknown): Promise<void> {
    kc.loginCalls.push(options);
  }

  async logout(options: unknown): Promise<void> {
    kc.logoutCalls.push(options);
  }
}
