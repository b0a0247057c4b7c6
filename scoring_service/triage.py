class TriageModel:
    name="triage"
    @classmethod
    def load(cls, vader): raise NotImplementedError
