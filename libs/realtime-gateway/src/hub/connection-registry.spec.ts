import { ConnectionRegistry } from './connection-registry';
import { FakeOwner, FakeSocket, openConnection } from './hub-connection.fakes';

describe('ConnectionRegistry targets', () => {
  function setup() {
    const registry = new ConnectionRegistry();
    const changes: string[] = [];
    registry.onTargets((key, present) => changes.push(`${present ? '+' : '-'}${key}`));
    const owner = new FakeOwner({ softLimitBytes: 1 << 20, hardLimitBytes: 1 << 21, replayBufferBytes: 1 << 20 });
    const a = openConnection(owner, new FakeSocket(), 'a');
    const b = openConnection(owner, new FakeSocket(), 'b');
    return { registry, changes, a, b };
  }

  it("tells a target's first connection and its last one, never the ones between", () => {
    const { registry, changes, a, b } = setup();
    registry.add(a);
    registry.add(b);
    registry.join(a, 'room:1');
    registry.join(b, 'room:1');
    expect(changes).toEqual(['+all', '+user:u1', '+group:room:1']);
    registry.leave(a, 'room:1');
    registry.remove(a);
    expect(changes).toHaveLength(3);
    registry.remove(b);
    expect(changes).toEqual(['+all', '+user:u1', '+group:room:1', '-user:u1', '-group:room:1', '-all']);
    expect(registry.targetKeys()).toEqual([]);
  });

  it('tells nothing for a leave of a group not joined, a second add or a remove of a stranger', () => {
    const { registry, changes, a, b } = setup();
    registry.add(a);
    registry.add(a);
    registry.leave(a, 'room:9');
    registry.remove(b);
    expect(changes).toEqual(['+all', '+user:u1']);
    expect(registry.targetKeys()).toEqual(['all', 'user:u1']);
  });
});
