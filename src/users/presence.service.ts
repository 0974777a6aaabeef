import { Injectable } from '@nestjs/common';

/**
 * Who is online on this instance: a count of open sockets per user. The socket gateway reports
 * connects and disconnects; profiles read `online` from here.
 */
@Injectable()
export class PresenceService {
  private readonly sockets = new Map<string, number>();

  /** Returns true when this is the user's first open socket. */
  connected(userId: string): boolean {
    const count = (this.sockets.get(userId) ?? 0) + 1;
    this.sockets.set(userId, count);
    return count === 1;
  }

  /** Returns true when the user's last open socket closed. */
  disconnected(userId: string): boolean {
    const count = (this.sockets.get(userId) ?? 0) - 1;
    if (count > 0) {
      this.sockets.set(userId, count);
      return false;
    }
    this.sockets.delete(userId);
    return true;
  }

  isOnline(userId: string): boolean {
    return this.sockets.has(userId);
  }
}
