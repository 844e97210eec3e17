// aedes-persistence-level ships no types. Only the factory is used: it takes an abstract-level
// database and returns an Aedes persistence (its `destroy()` closes that database).
declare module 'aedes-persistence-level' {
  interface LevelPersistence {
    destroy: () => Promise<void>
  }
  function aedesPersistenceLevel (db: object): LevelPersistence
  export default aedesPersistenceLevel
}
