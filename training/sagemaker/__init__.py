"""Training on SageMaker: the jobs, their data (uploaded, or left in Aurora) and the folder they produce.

`training.sagemaker.run.SageMakerTrainer` runs it; `churnguard train --sagemaker` is its command line.
"""
