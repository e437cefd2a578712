import { hubProtocolNamed } from '../protocols/hub-protocols';
import { StatefulSession } from './stateful-session';

const at = (id: string) => ({ 'realtime:{0}': id });

describe('StatefulSession records around a target held for order', () => {
  const session = () => {
    const s = new StatefulSession('h', 'c', hubProtocolNamed('json')!, { at: at('1-0') });
    s.push('m1', at('2-0'), 'regenerable');
    s.ack(1);
    return s;
  };

  it('writes no record while an envelope of its targets is held, and none until the released ones are acknowledged', () => {
    const s = session();
    expect(s.liveRecord('gw', 'u', 0)).toMatchObject({ base: 1, pos: at('2-0') });
    s.waitForOrder();
    expect(s.recordable).toBe(false);
    expect(s.liveRecord('gw', 'u', 0)).toBeUndefined();
    // 7 (read at 4-0) releases 8 (read at 3-0): both go out at the later position.
    s.push('m7', at('4-0'), 'regenerable');
    s.push('m8', at('4-0'), 'regenerable');
    s.releasedOutOfStreamOrder();
    expect(s.recordable).toBe(true);
    s.ack(2);
    expect(s.liveRecord('gw', 'u', 0)).toBeUndefined();
    s.ack(3);
    expect(s.liveRecord('gw', 'u', 0)).toMatchObject({ base: 3, pos: at('4-0') });
  });
});
