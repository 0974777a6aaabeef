import { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Public } from '../common/decorators/public.decorator';
import type { AuthService } from './auth.service';
import { JwtAuthGuard } from './jwt-auth.guard';

class BaseController {
  @Public()
  open(this: void): void {}

  closed(this: void): void {}
}

@Public()
class PublicController extends BaseController {}

class PrivateController extends BaseController {}

function context(controller: object, handler: object): ExecutionContext {
  return {
    getHandler: () => handler,
    getClass: () => controller,
    getType: () => 'http',
  } as unknown as ExecutionContext;
}

describe('JwtAuthGuard: @Public()', () => {
  const reflector = new Reflector();
  const guard = new JwtAuthGuard(reflector, {} as AuthService);
  const isPublic = (controller: object, handler: object) =>
    guard['isPublic'](context(controller, handler));

  it('reads the handler and then the class, per controller, for a handler both inherit', () => {
    const { open, closed } = BaseController.prototype;
    expect(isPublic(PrivateController, open)).toBe(true);
    expect(isPublic(PrivateController, closed)).toBe(false);
    expect(isPublic(PublicController, closed)).toBe(true);
    expect(isPublic(PublicController, open)).toBe(true);
  });

  it('asks the reflector once per controller and handler', () => {
    const lookups = jest.spyOn(reflector, 'getAllAndOverride');
    const { closed } = BaseController.prototype;
    class OtherController extends BaseController {}
    for (let i = 0; i < 3; i += 1) {
      expect(isPublic(OtherController, closed)).toBe(false);
      expect(isPublic(PublicController, closed)).toBe(true);
    }
    expect(lookups).toHaveBeenCalledTimes(1); // PublicController's answer was kept before
    lookups.mockRestore();
  });
});
