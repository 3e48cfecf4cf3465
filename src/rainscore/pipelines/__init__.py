"""The project's pipelines, one package each; their nodes sit in a namespace of the
pipeline's name (kedro-viz draws each as a box), except the comparison of every model
against the baselines, which the training and clustering pipelines put in one box."""

#: Namespace of the nodes that compare the models (``evaluate_models``, ``plot_predictions``,
#: ``evaluate_clustering``): they read what several model pipelines made.
EVALUATION = "evaluation"
