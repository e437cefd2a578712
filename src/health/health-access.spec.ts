import { ServiceUnavailableException } from '@nestjs/common';
import type { HealthCheckResult } from '@nestjs/terminus';
import { HealthAccess, statusOnly } from './health-access';

const TOKEN = 'health-token-0123456789abcdefghijklmnop';

describe('HealthAccess', () => {
  it('shows details to everyone outside production, a token or not', () => {
    const access = new HealthAccess({ production: false, healthToken: TOKEN });
    expect([undefined, 'Bearer wrong', `Bearer ${TOKEN}`].map((header) => access.showsDetails(header))).toEqual([
      true,
      true,
      true,
    ]);
    expect(new HealthAccess({ production: false }).showsDetails(undefined)).toBe(true);
  });

  it('in production shows details only for Bearer <HEALTH_TOKEN>', () => {
    const access = new HealthAccess({ production: true, healthToken: TOKEN });
    expect(access.showsDetails(`Bearer ${TOKEN}`)).toBe(true);
    expect(access.showsDetails(`bearer  ${TOKEN} `)).toBe(true);
    for (const header of [
      undefined,
      '',
      'Bearer',
      TOKEN,
      `Basic ${TOKEN}`,
      `Bearer ${TOKEN}x`,
      `Bearer ${TOKEN.slice(1)}`,
    ])
      expect(access.showsDetails(header)).toBe(false);
  });

  it('in production without HEALTH_TOKEN shows details to nobody', () => {
    const access = new HealthAccess({ production: true });
    expect(access.showsDetails('Bearer ')).toBe(false);
    expect(access.showsDetails('Bearer undefined')).toBe(false);
  });
});

describe('statusOnly', () => {
  const result = (status: 'ok' | 'error'): HealthCheckResult => ({
    status,
    info: {},
    error: { transport: { status: 'down', url: 'http://10.0.0.7:3000/internal' } },
    details: { transport: { status: 'down', url: 'http://10.0.0.7:3000/internal' } },
  });

  it('keeps only the status of a healthy result', async () => {
    await expect(statusOnly(Promise.resolve(result('ok')))).resolves.toEqual({ status: 'ok' });
  });

  it("keeps terminus's 503 and drops everything but the status from its body", async () => {
    const error: unknown = await statusOnly(Promise.reject(new ServiceUnavailableException(result('error')))).catch(
      (thrown: unknown) => thrown,
    );
    expect(error).toMatchObject({ status: 503 });
    expect((error as ServiceUnavailableException).getResponse()).toEqual({ status: 'error' });
  });

  it('passes other errors on (Nest answers them 500 without their message)', async () => {
    const failure = new Error('connect ECONNREFUSED 10.0.0.7:6379');
    await expect(statusOnly(Promise.reject(failure))).rejects.toBe(failure);
  });
});
