import type { DataSource, Repository } from 'typeorm'
import { User, type UserRole } from '../../../entities/user.js'

/** The only code touching TypeORM for `users`. */
export class UsersRepository {
  private readonly repo: Repository<User>
  constructor (dataSource: DataSource) {
    this.repo = dataSource.getRepository(User)
  }

  async byUsername (username: string): Promise<User | undefined> {
    return (await this.repo.findOneBy({ username })) ?? undefined
  }

  async list (): Promise<User[]> {
    return await this.repo.find({ order: { id: 'ASC' } })
  }

  async count (): Promise<number> {
    return await this.repo.count()
  }

  async create (u: { username: string, role: UserRole, passwordHash: string }, now: number): Promise<User> {
    return await this.repo.save(this.repo.create({ ...u, enabled: true, createdAt: now, updatedAt: now, lastLoginAt: null }))
  }

  /** True when the user exists. */
  async update (username: string, patch: { enabled?: boolean, role?: UserRole, passwordHash?: string, lastLoginAt?: number }, now: number): Promise<boolean> {
    const res = await this.repo.update({ username }, { ...patch, updatedAt: now })
    return (res.affected ?? 0) > 0
  }
}
