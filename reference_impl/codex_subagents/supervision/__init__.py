"""Running jobs: the cap and the queue, a worker's life from start to result, and the supervisor that owns them.

`JobSupervisor` is entered once in the server's lifespan and owns one task group:
`slots` decides when a job may start (a free slot, no running job whose scope meets
its own), `lifecycle` runs one worker behind that barrier, journals its events and
stops its whole process tree, and the supervisor answers spawn, wait, cancel and status.
"""
