"""What a person sees of the jobs: read from the state dir alone, while servers run or long after.

A reader here never writes in the state dir and takes no lock a server needs. It
reads each file only from where it stopped reading (`tail`), keeps one view per
job (`board`: its state, what it does now, the files it touched, its tokens and
alerts), and picks a batch of jobs with the rollbacks between them (`batch`) for
the after-the-fact picture: what each job did and when (`story`), what the batch
shows across jobs (`findings`), drawn as SVG (`timeline`) on one page (`page`). The commands ``watch``, ``log`` and
``report`` show what this part reads.
"""
