"""Raw protobuf message classes used by the emulator.

The installed google-cloud-firestore ships proto-plus wrappers only; `.pb()` returns the
underlying upb-backed message classes, which are several times faster than the wrappers
and are what the hot paths below work with. Neither package ships type information, so
pb.pyi, written from these classes' descriptors by ../gen_pb_stub.py, describes them to mypy.
"""

from google.cloud.firestore_v1.types import aggregation_result, common, document, firestore
from google.cloud.firestore_v1.types import query as query_types
from google.cloud.firestore_v1.types import write as write_types
from google.protobuf import empty_pb2, message, timestamp_pb2
from google.rpc import status_pb2

Document = document.Document.pb()
Value = document.Value.pb()
ArrayValue = document.ArrayValue.pb()
MapValue = document.MapValue.pb()
DocumentMask = common.DocumentMask.pb()
Precondition = common.Precondition.pb()
TransactionOptions = common.TransactionOptions.pb()
Write = write_types.Write.pb()
DocumentTransform = write_types.DocumentTransform.pb()
WriteResult = write_types.WriteResult.pb()
StructuredQuery = query_types.StructuredQuery.pb()
StructuredAggregationQuery = query_types.StructuredAggregationQuery.pb()
Cursor = query_types.Cursor.pb()
AggregationResult = aggregation_result.AggregationResult.pb()
Message = message.Message
Timestamp = timestamp_pb2.Timestamp
Empty = empty_pb2.Empty
Status = status_pb2.Status

GetDocumentRequest = firestore.GetDocumentRequest.pb()
ListDocumentsRequest = firestore.ListDocumentsRequest.pb()
ListDocumentsResponse = firestore.ListDocumentsResponse.pb()
CreateDocumentRequest = firestore.CreateDocumentRequest.pb()
UpdateDocumentRequest = firestore.UpdateDocumentRequest.pb()
DeleteDocumentRequest = firestore.DeleteDocumentRequest.pb()
BatchGetDocumentsRequest = firestore.BatchGetDocumentsRequest.pb()
BatchGetDocumentsResponse = firestore.BatchGetDocumentsResponse.pb()
BeginTransactionRequest = firestore.BeginTransactionRequest.pb()
BeginTransactionResponse = firestore.BeginTransactionResponse.pb()
CommitRequest = firestore.CommitRequest.pb()
CommitResponse = firestore.CommitResponse.pb()
RollbackRequest = firestore.RollbackRequest.pb()
RunQueryRequest = firestore.RunQueryRequest.pb()
RunQueryResponse = firestore.RunQueryResponse.pb()
RunAggregationQueryRequest = firestore.RunAggregationQueryRequest.pb()
RunAggregationQueryResponse = firestore.RunAggregationQueryResponse.pb()
PartitionQueryRequest = firestore.PartitionQueryRequest.pb()
PartitionQueryResponse = firestore.PartitionQueryResponse.pb()
WriteRequest = firestore.WriteRequest.pb()
WriteResponse = firestore.WriteResponse.pb()
ListenRequest = firestore.ListenRequest.pb()
ListenResponse = firestore.ListenResponse.pb()
Target = firestore.Target.pb()
TargetChange = firestore.TargetChange.pb()
DocumentChange = write_types.DocumentChange.pb()
DocumentDelete = write_types.DocumentDelete.pb()
DocumentRemove = write_types.DocumentRemove.pb()
ListCollectionIdsRequest = firestore.ListCollectionIdsRequest.pb()
ListCollectionIdsResponse = firestore.ListCollectionIdsResponse.pb()
BatchWriteRequest = firestore.BatchWriteRequest.pb()
BatchWriteResponse = firestore.BatchWriteResponse.pb()
ExecutePipelineRequest = firestore.ExecutePipelineRequest.pb()
ExecutePipelineResponse = firestore.ExecutePipelineResponse.pb()
# For annotations: the type of map<string, message> fields such as Document.fields.
MessageMap = type(Document().fields)

_FF = query_types.StructuredQuery.FieldFilter.Operator
_UF = query_types.StructuredQuery.UnaryFilter.Operator
_CF = query_types.StructuredQuery.CompositeFilter.Operator
_DIR = query_types.StructuredQuery.Direction

OP_LT = int(_FF.LESS_THAN)
OP_LTE = int(_FF.LESS_THAN_OR_EQUAL)
OP_GT = int(_FF.GREATER_THAN)
OP_GTE = int(_FF.GREATER_THAN_OR_EQUAL)
OP_EQ = int(_FF.EQUAL)
OP_NEQ = int(_FF.NOT_EQUAL)
OP_ARRAY_CONTAINS = int(_FF.ARRAY_CONTAINS)
OP_IN = int(_FF.IN)
OP_ARRAY_CONTAINS_ANY = int(_FF.ARRAY_CONTAINS_ANY)
OP_NOT_IN = int(_FF.NOT_IN)
OP_IS_NAN = int(_UF.IS_NAN)
OP_IS_NULL = int(_UF.IS_NULL)
OP_IS_NOT_NAN = int(_UF.IS_NOT_NAN)
OP_IS_NOT_NULL = int(_UF.IS_NOT_NULL)
OP_AND = int(_CF.AND)
OP_OR = int(_CF.OR)
DIR_DESCENDING = int(_DIR.DESCENDING)
_DM = query_types.StructuredQuery.FindNearest.DistanceMeasure
DISTANCE_EUCLIDEAN = int(_DM.EUCLIDEAN)
DISTANCE_COSINE = int(_DM.COSINE)
DISTANCE_DOT_PRODUCT = int(_DM.DOT_PRODUCT)
_TC = firestore.TargetChange.TargetChangeType
TARGET_NO_CHANGE = int(_TC.NO_CHANGE)
TARGET_ADD = int(_TC.ADD)
TARGET_REMOVE = int(_TC.REMOVE)
TARGET_CURRENT = int(_TC.CURRENT)
TARGET_RESET = int(_TC.RESET)
SERVER_REQUEST_TIME = int(write_types.DocumentTransform.FieldTransform.ServerValue.REQUEST_TIME)
