import { TransportPublishError } from '../errors/transport-publish.error';
import { BridgeTicket } from './http-bridge.ticket';

describe('BridgeTicket', () => {
  const laneA = { name: 'a' };
  const laneB = { name: 'b' };

  it('resolves at the first acknowledgement, after its onAcked hook ran', async () => {
    const order: string[] = [];
    const ticket = new BridgeTicket([laneA, laneB], 1000, () => undefined);
    ticket.onAcked = () => order.push('hook');
    void ticket.promise.then(() => order.push('resolved'));
    ticket.acked();
    ticket.acked();
    await ticket.promise;
    expect(order).toEqual(['hook', 'resolved']);
  });

  it('rejects once every lane it waits for failed, and tells the lanes to forget it', async () => {
    const rejected = jest.fn();
    const ticket = new BridgeTicket([laneA, laneB], 1000, rejected);
    ticket.laneFailed(laneA, 'a down');
    expect(ticket.settled).toBe(false);
    ticket.laneFailed(laneB, 'b down');
    await expect(ticket.promise).rejects.toThrow(TransportPublishError);
    await expect(ticket.promise).rejects.toThrow(/a down; b down/);
    expect(rejected).toHaveBeenCalledWith(ticket);
  });

  it('is settled for every lane only once each delivered or reported what it queued', async () => {
    const ticket = new BridgeTicket([laneA, laneB], 1000, () => undefined);
    const onSettled = jest.fn();
    ticket.onSettled = onSettled;
    ticket.queued(2); // lane A
    ticket.queued(2); // lane B
    const settled = ticket.whenSettled();
    ticket.laneSettled(2);
    ticket.acked();
    expect(ticket.allLanesSettled).toBe(false);
    ticket.laneSettled(1);
    expect(onSettled).not.toHaveBeenCalled();
    ticket.laneSettled(1);
    expect(ticket.allLanesSettled).toBe(true);
    expect(onSettled).toHaveBeenCalledWith(true);
    await expect(settled).resolves.toBe(true);
    await expect(ticket.whenSettled()).resolves.toBe(true);
  });

  it('is never settled once a lane abandoned its envelopes (shutdown)', async () => {
    const ticket = new BridgeTicket([laneA, laneB], 1000, () => undefined);
    ticket.queued(2);
    ticket.acked();
    const settled = ticket.whenSettled();
    ticket.abandoned();
    ticket.laneSettled(2);
    await expect(settled).resolves.toBe(false);
  });
});
