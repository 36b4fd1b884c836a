REM nianbao (nianbao.pdf): one LibreOffice converts every .docx of a list to PDF.
REM Each line of the list is "source URL<TAB>target URL".  A PDF is written as
REM target.part and renamed when complete.  LibreOffice ignores the .docx's
REM w:overflowPunct="0" and hangs punctuation in the margin, where a justified
REM line loses it; hanging is switched off here, as the document asks.
Sub Convert(listUrl As String)
	Dim f As Integer, entry As String, parts
	On Error GoTo Done
	f = FreeFile
	Open listUrl For Input As #f
	Do While Not EOF(f)
		Line Input #f, entry
		parts = Split(entry, Chr(9))
		If UBound(parts) = 1 Then ConvertOne(parts(0), parts(1))
	Loop
	Close #f
Done:
	StarDesktop.terminate()
End Sub

Sub ConvertOne(source As String, target As String)
	Dim doc As Object, styles As Object, defaults As Object, i As Long
	On Error GoTo Failed
	Dim load(1) As New com.sun.star.beans.PropertyValue
	load(0).Name = "Hidden" : load(0).Value = True
	load(1).Name = "ReadOnly" : load(1).Value = True
	doc = StarDesktop.loadComponentFromURL(source, "_blank", 0, load())
	If IsNull(doc) Then Exit Sub
	defaults = doc.createInstance("com.sun.star.text.Defaults")
	defaults.ParaIsHangingPunctuation = False
	styles = doc.StyleFamilies.getByName("ParagraphStyles")
	For i = 0 To styles.Count - 1
		styles.getByIndex(i).ParaIsHangingPunctuation = False
	Next i
	Dim store(0) As New com.sun.star.beans.PropertyValue
	store(0).Name = "FilterName" : store(0).Value = "writer_pdf_Export"
	doc.storeToURL(target & ".part", store())
	doc.close(True)
	Name target & ".part" As target
	Exit Sub
Failed:
	On Error Resume Next
	If Not IsNull(doc) Then doc.close(True)
End Sub
